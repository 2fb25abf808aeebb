//! Each run's workspace directory: where its jobs run and leave their files, and the only
//! place file downloads may read from. Everything below a run's directory is read through
//! open directory descriptors, never by path: see [`nofollow`].

mod nofollow;

use std::ffi::OsStr;
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use nofollow::Kind;

/// The directory of a run's gate records, `<data dir>/workspaces/.gates-<run>`: beside
/// the workspace, not in it, so no job of the run can write it (the sandbox grants jobs
/// their own workspace and, read-only, this directory; they get its path as
/// `TOLLGATE_GATES_DIR`). A sibling job could otherwise replace the record of a gate
/// after the decision and before the jobs it released read it.
pub fn gate_records_beside(workspace: &Path, run: i64) -> PathBuf {
    workspace.with_file_name(format!(".gates-{run}"))
}

/// A file found in a workspace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileInfo {
    /// Relative to the workspace, with `/` between parts.
    pub path: String,
    pub size: u64,
    pub modified_ms: i64,
}

/// Why a requested path is not served.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PathError {
    #[error("the path `{0}` is not a plain relative path inside the run's workspace")]
    Unsafe(String),
    #[error("the run's workspace has no file `{0}`")]
    NotFound(String),
    #[error("the file `{0}` in the run's workspace cannot be read: {1}")]
    Unreadable(String, String),
}

/// The root under which every run's workspace lives (`<data dir>/workspaces/<run id>`).
#[derive(Clone, Debug)]
pub struct Workspaces {
    root: PathBuf,
}

impl Workspaces {
    pub fn new(data_dir: &Path) -> Workspaces {
        Workspaces {
            root: data_dir.join("workspaces"),
        }
    }

    /// The absolute directory of `run`'s workspace (jobs see it as `TOLLGATE_WORKSPACE`).
    pub fn dir(&self, run: i64) -> PathBuf {
        let root = std::path::absolute(&self.root).unwrap_or_else(|_| self.root.clone());
        root.join(run.to_string())
    }

    pub fn create(&self, run: i64) -> io::Result<PathBuf> {
        let dir = self.dir(run);
        std::fs::create_dir_all(&dir)?;
        Ok(dir)
    }

    /// Removes the run's workspace and everything in it, and its gate records. A link a
    /// job left in place of the directory is removed itself, never followed. A workspace
    /// that is already gone is fine.
    pub fn remove(&self, run: i64) -> io::Result<()> {
        match std::fs::remove_dir_all(self.gate_records(run)) {
            Err(error) if error.kind() != io::ErrorKind::NotFound => return Err(error),
            _ => {}
        }
        match std::fs::remove_dir_all(self.dir(run)) {
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(error) if error.kind() == io::ErrorKind::NotADirectory => {
                std::fs::remove_file(self.dir(run))
            }
            other => other,
        }
    }

    /// The run's workspace directory, opened. The root is opened by the server's own path
    /// (links an operator made there are fine: jobs cannot write it); the run's directory
    /// in it is opened without following a link, so a job that replaced its workspace by
    /// a link (to `/`, say) gets `ELOOP` instead of what the link points to.
    fn open_base(&self, run: i64) -> io::Result<OwnedFd> {
        let root = File::options()
            .read(true)
            .custom_flags(libc::O_DIRECTORY)
            .open(&self.root)?;
        nofollow::open_dir(root.as_fd(), OsStr::new(&run.to_string()))
    }

    /// Where the records of `run`'s decided gates are kept (see [`gate_records_beside`]).
    pub fn gate_records(&self, run: i64) -> PathBuf {
        gate_records_beside(&self.dir(run), run)
    }

    /// Writes the record of a decided gate, `<gate>.json`, for the run's later jobs to
    /// read; the directory is made if missing. The file is replaced whole (a new file
    /// renamed over the old), so a reader sees the old record or the new one.
    pub fn write_gate_record(&self, run: i64, name: &str, bytes: &[u8]) -> io::Result<()> {
        let root = File::options()
            .read(true)
            .custom_flags(libc::O_DIRECTORY)
            .open(&self.root)?;
        let records = format!(".gates-{run}");
        nofollow::make_dir(root.as_fd(), OsStr::new(&records))?;
        let dir = nofollow::open_dir(root.as_fd(), OsStr::new(&records))?;
        nofollow::replace_file(dir.as_fd(), OsStr::new(name), bytes)
    }

    /// Every regular file under the workspace, by path. Symbolic links are neither
    /// followed nor listed, and the walk goes from one open directory to the next (see
    /// [`nofollow`]), so a job swapping a directory for a link mid-walk cannot lead it
    /// outside. Entries that vanish or change kind during the walk are skipped.
    pub fn list(&self, run: i64) -> io::Result<Vec<FileInfo>> {
        let base = match self.open_base(run) {
            Ok(base) => base,
            Err(error) if changed(&error) => return Ok(Vec::new()),
            Err(error) => return Err(error),
        };
        let mut files = Vec::new();
        collect(base.as_fd(), "", 0, &mut files)?;
        files.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(files)
    }

    /// Opens `relative` in `run`'s workspace for reading, if it is a regular file there.
    /// `..`, absolute paths and a symbolic link at any step (even one staying inside) are
    /// refused; each directory is opened relative to the one before it and the file is
    /// read from the descriptor returned, so nothing a job does meanwhile can change what
    /// was checked.
    pub fn open(&self, run: i64, relative: &str) -> Result<File, PathError> {
        let unsafe_path = || PathError::Unsafe(relative.to_string());
        let not_found = || PathError::NotFound(relative.to_string());
        // Parts separated by single slashes, none of them `.` or `..`: no absolute path,
        // no climbing, nothing a normalisation would have to explain.
        let plain = !relative.contains('\0')
            && relative
                .split('/')
                .all(|part| !part.is_empty() && part != "." && part != "..");
        if !plain {
            return Err(unsafe_path());
        }
        let parts: Vec<&OsStr> = relative.split('/').map(OsStr::new).collect();
        let refused = |error: io::Error| match error.raw_os_error() {
            Some(libc::ELOOP) => unsafe_path(),
            Some(libc::ENOENT | libc::ENOTDIR | libc::ENAMETOOLONG) => not_found(),
            _ => PathError::Unreadable(relative.to_string(), error.to_string()),
        };
        let (name, dirs) = parts.split_last().ok_or_else(unsafe_path)?;
        // A workspace replaced by a link has no files, as one that is gone.
        let mut dir = self
            .open_base(run)
            .map_err(|error| match error.raw_os_error() {
                Some(libc::ELOOP) => not_found(),
                _ => refused(error),
            })?;
        for part in dirs {
            dir = nofollow::open_dir(dir.as_fd(), part).map_err(refused)?;
        }
        nofollow::open_file(dir.as_fd(), name)
            .map_err(refused)?
            .ok_or_else(not_found)
    }
}

/// How deep [`Workspaces::list`] walks: each level holds one descriptor open, and a job
/// could nest directories without end. Deeper files are not listed.
const MAX_DEPTH: usize = 64;

/// An error that means the entry vanished, was replaced by a link or something else, or
/// was made unreadable by a job while it was being looked at: skipped, not fatal.
fn changed(error: &io::Error) -> bool {
    matches!(
        error.raw_os_error(),
        Some(libc::ENOENT | libc::ENOTDIR | libc::ELOOP | libc::EACCES)
    )
}

fn collect(
    dir: BorrowedFd<'_>,
    prefix: &str,
    depth: usize,
    files: &mut Vec<FileInfo>,
) -> io::Result<()> {
    for name in nofollow::names(dir)? {
        let entry = match nofollow::stat_at(dir, &name) {
            Ok(entry) => entry,
            Err(error) if changed(&error) => continue,
            Err(error) => return Err(error),
        };
        let name_text = name.to_string_lossy();
        let path = if prefix.is_empty() {
            name_text.into_owned()
        } else {
            format!("{prefix}/{name_text}")
        };
        match entry.kind {
            Kind::File => files.push(FileInfo {
                path,
                size: entry.size,
                modified_ms: entry.modified_ms,
            }),
            Kind::Dir if depth < MAX_DEPTH => match nofollow::open_dir(dir, &name) {
                Ok(sub) => match collect(sub.as_fd(), &path, depth + 1, files) {
                    Err(error) if changed(&error) => {}
                    other => other?,
                },
                Err(error) if changed(&error) => {}
                Err(error) => return Err(error),
            },
            Kind::Dir | Kind::Link | Kind::Other => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    fn workspace() -> (Workspaces, PathBuf) {
        let data = std::env::temp_dir().join(format!(
            "tollgate-ws-{}-{}",
            std::process::id(),
            rand_suffix()
        ));
        let workspaces = Workspaces::new(&data);
        let dir = workspaces.create(7).expect("create");
        (workspaces, dir)
    }

    fn rand_suffix() -> u64 {
        std::time::SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64)
    }

    /// A directory outside every workspace holding `secret.txt`.
    fn outside() -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "tollgate-outside-{}-{}",
            std::process::id(),
            rand_suffix()
        ));
        std::fs::create_dir_all(&dir).expect("mkdir outside");
        std::fs::write(dir.join("secret.txt"), "SECRET").expect("write secret");
        dir
    }

    fn read(file: Result<File, PathError>) -> Result<String, PathError> {
        file.map(|file| std::io::read_to_string(file).expect("read"))
    }

    #[test]
    fn lists_files_recursively_without_links() {
        let (workspaces, dir) = workspace();
        std::fs::write(dir.join("report.txt"), "rows: 10\n").expect("write");
        std::fs::create_dir_all(dir.join("out/deep")).expect("mkdir");
        std::fs::write(dir.join("out/deep/model.bin"), [0u8; 3]).expect("write");
        std::os::unix::fs::symlink("/etc/passwd", dir.join("link")).expect("link");
        std::os::unix::fs::symlink(outside(), dir.join("out/elsewhere")).expect("link");
        std::os::unix::fs::symlink("deep", dir.join("out/again")).expect("link");
        let files = workspaces.list(7).expect("list");
        let listed: Vec<(&str, u64)> = files.iter().map(|f| (f.path.as_str(), f.size)).collect();
        assert_eq!(listed, [("out/deep/model.bin", 3), ("report.txt", 9)]);
        assert!(files.iter().all(|f| f.modified_ms > 0));
        assert!(workspaces.list(8).expect("no workspace").is_empty());
    }

    #[test]
    fn opens_only_plain_paths_inside_the_workspace() {
        let (workspaces, dir) = workspace();
        std::fs::write(dir.join("report.txt"), "ok").expect("write");
        std::fs::create_dir_all(dir.join("sub")).expect("mkdir");
        std::fs::write(dir.join("sub/a.txt"), "a").expect("write");
        std::os::unix::fs::symlink("/etc/passwd", dir.join("escape")).expect("link");
        std::os::unix::fs::symlink("report.txt", dir.join("inside")).expect("link");

        assert_eq!(read(workspaces.open(7, "report.txt")), Ok("ok".into()));
        assert_eq!(read(workspaces.open(7, "sub/a.txt")), Ok("a".into()));
        for bad in [
            "../7/report.txt",
            "/etc/passwd",
            "sub/../report.txt",
            "./report.txt",
            "..",
            "sub/..",
            "sub/./a.txt",
            "sub//a.txt",
            "sub/a.txt/",
            "",
            "a\0b",
            "escape",
            "inside",
        ] {
            assert_eq!(
                read(workspaces.open(7, bad)),
                Err(PathError::Unsafe(bad.to_string())),
                "{bad:?}"
            );
        }
        for missing in ["missing.txt", "sub", "report.txt/x", "nowhere/a.txt"] {
            assert_eq!(
                read(workspaces.open(7, missing)),
                Err(PathError::NotFound(missing.into())),
                "{missing:?}"
            );
        }
        assert_eq!(
            read(workspaces.open(8, "report.txt")),
            Err(PathError::NotFound("report.txt".into()))
        );
    }

    #[test]
    fn a_run_directory_replaced_by_a_link_has_no_files() {
        let (workspaces, dir) = workspace();
        std::fs::remove_dir_all(&dir).expect("remove");
        std::os::unix::fs::symlink(outside(), &dir).expect("link");
        assert_eq!(
            read(workspaces.open(7, "secret.txt")),
            Err(PathError::NotFound("secret.txt".into()))
        );
        assert_eq!(workspaces.list(7).expect("list"), []);
    }

    #[test]
    fn a_directory_replaced_by_a_link_is_not_entered() {
        let (workspaces, dir) = workspace();
        std::os::unix::fs::symlink(outside(), dir.join("sub")).expect("link");
        assert_eq!(
            read(workspaces.open(7, "sub/secret.txt")),
            Err(PathError::Unsafe("sub/secret.txt".into()))
        );
        assert_eq!(workspaces.list(7).expect("list"), []);
    }

    #[test]
    fn fifos_and_sockets_are_neither_opened_nor_listed() {
        let (workspaces, dir) = workspace();
        let fifo = std::ffi::CString::new(dir.join("pipe").into_os_string().into_encoded_bytes())
            .expect("path");
        // SAFETY: `fifo` is a NUL-terminated path that outlives the call.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0, "mkfifo");
        let _socket = std::os::unix::net::UnixListener::bind(dir.join("socket")).expect("bind");
        // Opening the FIFO for reading would wait for a writer: this returns at once.
        for special in ["pipe", "socket"] {
            assert_eq!(
                read(workspaces.open(7, special)),
                Err(PathError::NotFound(special.into()))
            );
        }
        assert_eq!(workspaces.list(7).expect("list"), []);
    }

    /// A directory swapped for a link to the outside over and over while files are opened
    /// and listed: only the workspace's own file is ever read. The swaps land at random
    /// points of the walk, so a run may miss some windows, but a failure is never spurious.
    #[test]
    fn swapping_a_directory_for_a_link_never_reaches_outside() {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicBool, Ordering};

        const INSIDE: &str = "inside, unlike the secret";
        let (workspaces, dir) = workspace();
        let outside = outside();
        std::fs::write(outside.join("only-outside.txt"), "SECRET").expect("write");
        std::fs::create_dir_all(dir.join("sub")).expect("mkdir");
        std::fs::write(dir.join("sub/secret.txt"), INSIDE).expect("write");
        std::os::unix::fs::symlink(&outside, dir.join("link")).expect("link");
        assert_eq!(
            read(workspaces.open(7, "sub/secret.txt")),
            Ok(INSIDE.into())
        );

        let stop = Arc::new(AtomicBool::new(false));
        let swapper = {
            let (stop, dir) = (Arc::clone(&stop), dir.clone());
            std::thread::spawn(move || {
                let rename = |from: &str, to: &str| {
                    std::fs::rename(dir.join(from), dir.join(to)).expect("rename");
                };
                while !stop.load(Ordering::Relaxed) {
                    rename("sub", "real");
                    rename("link", "sub");
                    rename("sub", "link");
                    rename("real", "sub");
                }
            })
        };
        for _ in 0..3000 {
            match read(workspaces.open(7, "sub/secret.txt")) {
                Ok(text) => assert_eq!(text, INSIDE),
                Err(PathError::NotFound(_) | PathError::Unsafe(_)) => {}
                Err(other) => panic!("{other}"),
            }
            let files = workspaces.list(7).expect("list");
            // `real/secret.txt` is the same directory caught mid-swap: still inside.
            assert!(
                files
                    .iter()
                    .all(|file| file.path.ends_with("/secret.txt")
                        && file.size == INSIDE.len() as u64),
                "{files:?}"
            );
        }
        stop.store(true, Ordering::Relaxed);
        swapper.join().expect("swapper");
    }

    #[test]
    fn a_gate_record_is_kept_beside_the_workspace_and_removed_with_it() {
        let (workspaces, dir) = workspace();
        for text in ["first", "second"] {
            workspaces
                .write_gate_record(7, "g.json", text.as_bytes())
                .expect("write");
        }
        let records = workspaces.gate_records(7);
        assert_eq!(records, dir.with_file_name(".gates-7"));
        assert_eq!(
            std::fs::read_to_string(records.join("g.json")).expect("read"),
            "second"
        );
        assert_eq!(workspaces.list(7).expect("list"), Vec::new());
        workspaces.remove(7).expect("remove");
        assert!(!records.exists() && !dir.exists());
    }
}
