//! The sandbox around each job: a Landlock ruleset limiting which files its processes
//! can reach (what it allows is in [`rules`]), no capabilities and no new privileges
//! (how all three are applied is in [`child`]), and a server whose memory jobs cannot
//! read ([`undumpable`]).
//!
//! Landlock is best-effort: on a kernel without it (or with an older version of it)
//! jobs still start, with a warning at start-up saying what they can then reach, and
//! `/readyz` shows the state. Whether the kernel supports it is a fact about the machine,
//! so it is probed once per process and kept in a static.

mod child;
pub mod extra_paths;
pub mod network;
mod rules;
mod undumpable;

use std::path::Path;
use std::sync::OnceLock;

use crate::job_env::JobPlace;

pub use child::Confinement;
pub use undumpable::{close_the_server_to_jobs, is_closed};

/// What the kernel offers for sandboxing jobs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Support {
    /// Landlock at this ABI version.
    Landlock { abi: i64 },
    /// No Landlock, for this reason.
    Unavailable { reason: String },
}

/// `LANDLOCK_CREATE_RULESET_VERSION` from the kernel's `landlock.h`: with it,
/// `landlock_create_ruleset` returns the ABI version instead of creating a ruleset.
const CREATE_RULESET_VERSION: libc::c_uint = 1;

/// The first ABI with the scopes [`rules`] asks for (signals, abstract UNIX sockets).
const FULL_ABI: i64 = 6;

static SUPPORT: OnceLock<Support> = OnceLock::new();

/// The kernel's Landlock support, probed on first use.
pub fn support() -> &'static Support {
    SUPPORT.get_or_init(probe)
}

fn probe() -> Support {
    // SAFETY: with a null attribute, size 0 and the VERSION flag the kernel only returns
    // the ABI version (or an error); it creates nothing and reads no memory of ours.
    let version = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<libc::c_void>(),
            0usize,
            CREATE_RULESET_VERSION,
        )
    };
    if version >= 1 {
        return Support::Landlock { abi: version };
    }
    let error = std::io::Error::last_os_error();
    let reason = match error.raw_os_error() {
        Some(libc::ENOSYS) => "the kernel is built without Landlock".to_string(),
        Some(libc::EOPNOTSUPP) => {
            "Landlock is disabled in this kernel (add `landlock` to its `lsm=` boot parameter)"
                .to_string()
        }
        _ => format!("the Landlock probe failed: {error}"),
    };
    Support::Unavailable { reason }
}

impl Support {
    /// The Landlock ABI, if the kernel has Landlock.
    pub fn abi(&self) -> Option<i64> {
        match self {
            Support::Landlock { abi } => Some(*abi),
            Support::Unavailable { .. } => None,
        }
    }

    /// One line for `/readyz`: `landlock abi 7` or `unavailable: <reason>`.
    pub fn describe(&self) -> String {
        match self {
            Support::Landlock { abi } => format!("landlock abi {abi}"),
            Support::Unavailable { reason } => format!("unavailable: {reason}"),
        }
    }

    /// What a job can reach that it could not with full support, or `None` if nothing.
    pub fn exposed(&self) -> Option<String> {
        let abi = match self {
            Support::Unavailable { .. } => {
                return Some(
                    "jobs run without a filesystem sandbox: they can read and write every file \
                     the server's user can, including the database and other runs' workspaces"
                        .to_string(),
                );
            }
            Support::Landlock { abi } => *abi,
        };
        let mut gaps = Vec::new();
        if abi < 3 {
            gaps.push(
                "truncate any file the server's user can write, including the database \
                 (needs ABI 3, Linux 6.2)",
            );
        }
        if abi < 5 {
            gaps.push("send ioctls to the devices they may open (needs ABI 5, Linux 6.10)");
        }
        if abi < FULL_ABI {
            gaps.push(
                "signal processes outside their sandbox, the server included, and connect to \
                 abstract UNIX sockets (needs ABI 6, Linux 6.12)",
            );
        }
        (!gaps.is_empty()).then(|| format!("jobs can still {}", gaps.join("; ")))
    }

    /// Builds the confinement of one job: read-write on its workspace and private
    /// directory, read-only on the run's gate records and the system, TCP connections
    /// only to `connect` (any port when `None`), no capabilities. Without Landlock only the filesystem rules are
    /// missing (the job still starts); an error when Landlock is available but the
    /// ruleset cannot be built, so that a job is never silently run with less than it
    /// should have.
    pub fn confine(
        &self,
        place: &JobPlace<'_>,
        connect: Option<&[u16]>,
    ) -> Result<Confinement, String> {
        match self {
            Support::Unavailable { .. } => Ok(Confinement::new(None)),
            Support::Landlock { .. } => rules::ruleset(place, connect)
                .map(Confinement::new)
                .map_err(|error| format!("could not build the job's sandbox: {error}")),
        }
    }
}

/// Says once, at start-up, how jobs are sandboxed and what they can reach beyond that;
/// warns too when the data directory lies where every job may read (then each job could
/// read the database and every workspace).
pub fn log_at_start(data_dir: &Path) {
    let support = support();
    match support.exposed() {
        None => tracing::info!(sandbox = %support.describe(), "jobs run in a Landlock sandbox"),
        Some(exposed) => {
            tracing::warn!(sandbox = %support.describe(), "jobs are not fully sandboxed: {exposed}")
        }
    }
    if matches!(support, Support::Landlock { .. })
        && let Some(root) = rules::readable_root_of(data_dir)
    {
        tracing::warn!(
            data_dir = %data_dir.display(),
            "the data directory is under {root}, which every job may read: jobs can read the \
             database and all workspaces; move it (e.g. to /var/lib/tollgate)"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_the_state_and_what_is_exposed() {
        let full = Support::Landlock { abi: 7 };
        assert_eq!(full.describe(), "landlock abi 7");
        assert_eq!(full.exposed(), None);

        let old = Support::Landlock { abi: 4 };
        let exposed = old.exposed().unwrap_or_default();
        assert!(
            exposed.starts_with("jobs can still send ioctls"),
            "{exposed}"
        );
        assert!(exposed.contains("signal processes outside"), "{exposed}");
        assert!(!exposed.contains("truncate"), "{exposed}");

        let none = Support::Unavailable {
            reason: "the kernel is built without Landlock".into(),
        };
        assert_eq!(
            none.describe(),
            "unavailable: the kernel is built without Landlock"
        );
        assert!(
            none.exposed()
                .unwrap_or_default()
                .contains("including the database")
        );
        let nowhere = Path::new("/nonexistent");
        let place = JobPlace {
            run_id: 1,
            job_id: "a",
            workspace: nowhere,
            tmp: nowhere,
            gates: nowhere,
        };
        assert!(none.confine(&place, Some(&[])).is_ok());
    }
}
