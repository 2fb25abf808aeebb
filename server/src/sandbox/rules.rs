//! What a job may reach on the filesystem; everything else is denied.
//!
//! - Read and execute: the system's programs, libraries and configuration ([`SYSTEM`]).
//! - Read only: kernel information ([`KERNEL`]). Other processes' secrets there stay
//!   closed: Landlock refuses a sandboxed process ptrace-class access (`environ`, `mem`)
//!   to processes outside its sandbox, the server included. (Command lines in
//!   `/proc/<pid>/cmdline` are readable by anyone, as they always are.)
//! - Read and write: a few harmless devices ([`DEVICES`]), the run's workspace and the
//!   job's private `TMPDIR`; in those two anything but making device nodes.
//! - Read only: the run's gate records (`TOLLGATE_GATES_DIR`), which no job may change.
//! - What the operator adds ([`super::extra_paths`]): read and execute, or read and
//!   write.
//! - Scopes: no signals to processes outside the job's sandbox (the server, other
//!   jobs), no connections to abstract UNIX sockets made outside it.
//! - TCP: connections only to the ports [`super::network`] allows the job.
//!
//! Not reachable, on purpose: the rest of the data directory (the SQLite file, other
//! runs' workspaces and other jobs' `TMPDIR`), `/tmp`, `/var/tmp` and `/dev/shm`
//! (shared with every other process; jobs get `TMPDIR` instead), `/run`, `/var`,
//! `/home`, `/root` and the server's `HOME`: a service account's home is where its
//! credentials live (`~/.ssh`, `~/.aws`, `~/.pgpass`, `~/.docker`, `~/.git-credentials`),
//! so even read-only it would hand them to every job (a job's `HOME` is its private
//! directory instead, see [`crate::job_env`]). Not `/dev/tty` either: a job has no
//! terminal, and the server's would let it write to (or read from) the operator's.
//!
//! The rights asked for are those of Landlock ABI 6 ([`ABI`]); this was tested on ABI 7,
//! which only adds audit logging. Later rights (ABI 9: connecting to pathname UNIX
//! sockets) are not asked for yet. On an older kernel the crate drops what it does not
//! know (best-effort), and [`super::Support::exposed`] says what that leaves open.

use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use crate::job_env::JobPlace;
use landlock::{
    ABI as LandlockAbi, Access, AccessFs, AccessNet, NetPort, PathBeneath, PathFd, PathFdError,
    Ruleset, RulesetAttr, RulesetCreatedAttr, RulesetError, Scope, path_beneath_rules,
};

/// The Landlock ABI whose rights are requested.
const ABI: LandlockAbi = LandlockAbi::V6;

/// Programs, libraries and configuration: read and execute. Missing ones are skipped.
pub const SYSTEM: [&str; 9] = [
    "/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32", "/etc", "/opt",
];

/// Kernel information: read only.
pub const KERNEL: [&str; 2] = ["/proc", "/sys"];

/// Devices a job may read and write.
pub const DEVICES: [&str; 5] = [
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/random",
    "/dev/urandom",
];

/// Why a job's ruleset could not be built.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    /// The workspace or `TMPDIR` cannot be opened (a missing system path is skipped).
    #[error(transparent)]
    Open(#[from] PathFdError),
    #[error(transparent)]
    Landlock(#[from] RulesetError),
}

/// Builds the ruleset for one job; `None` if the kernel turns out to have no Landlock.
/// The ruleset's descriptor is close-on-exec: the job never holds it.
pub fn ruleset(
    place: &JobPlace<'_>,
    connect: Option<&[u16]>,
) -> Result<Option<OwnedFd>, RulesError> {
    let all = AccessFs::from_all(ABI);
    // Everything but making device nodes: a job running as root could otherwise make
    // one for the disk in its workspace and read the database through it.
    let read_write = all & !(AccessFs::MakeChar | AccessFs::MakeBlock);
    let read = AccessFs::ReadFile | AccessFs::ReadDir;
    let read_exec = AccessFs::from_read(ABI);
    let device = AccessFs::ReadFile | AccessFs::WriteFile | AccessFs::Truncate | AccessFs::IoctlDev;
    let workspace = PathFd::new(place.workspace)?;
    let tmp = PathFd::new(place.tmp)?;
    let gates = PathFd::new(place.gates)?;
    let extra = super::extra_paths::extra_paths();
    let mut ruleset = Ruleset::default()
        .handle_access(all)?
        .scope(Scope::from_all(ABI))?;
    if connect.is_some() {
        ruleset = ruleset.handle_access(AccessNet::ConnectTcp)?;
    }
    let ports = connect
        .unwrap_or_default()
        .iter()
        .map(|port| Ok::<_, RulesetError>(NetPort::new(*port, AccessNet::ConnectTcp)));
    let ruleset = ruleset
        .create()?
        .add_rules(ports)?
        .add_rules(path_beneath_rules(SYSTEM, read_exec))?
        .add_rules(path_beneath_rules(KERNEL, read))?
        .add_rules(path_beneath_rules(resolver_config(), read))?
        .add_rules(path_beneath_rules(DEVICES, device))?
        .add_rule(PathBeneath::new(workspace, read_write))?
        .add_rule(PathBeneath::new(tmp, read_write))?
        .add_rule(PathBeneath::new(gates, read))?
        .add_rules(path_beneath_rules(&extra.read, read_exec))?
        .add_rules(path_beneath_rules(&extra.write, read_write))?;
    Ok(ruleset.into())
}

/// Where `/etc/resolv.conf` really is when it is a link out of `/etc` (systemd-resolved
/// keeps it in `/run`): without it a job could not resolve host names.
fn resolver_config() -> Option<PathBuf> {
    let real = std::fs::canonicalize("/etc/resolv.conf").ok()?;
    readable_root_of(&real).is_none().then_some(real)
}

/// The system root under which `path` lies, if jobs may read there.
pub fn readable_root_of(path: &Path) -> Option<&'static str> {
    let real = std::fs::canonicalize(path)
        .or_else(|_| std::path::absolute(path))
        .ok()?;
    SYSTEM
        .into_iter()
        .chain(KERNEL)
        .find(|root| std::fs::canonicalize(root).is_ok_and(|root| real.starts_with(root)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knows_which_paths_jobs_may_read() {
        assert_eq!(readable_root_of(Path::new("/usr/share")), Some("/usr"));
        assert_eq!(
            readable_root_of(Path::new("/etc/tollgate/data")),
            Some("/etc")
        );
        assert_eq!(readable_root_of(Path::new("/var/lib/tollgate")), None);
        assert_eq!(readable_root_of(Path::new("/tmp")), None);
    }
}
