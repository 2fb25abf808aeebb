//! Each run's workspace directory: where its jobs run and leave their files, and the only
//! place file downloads may read from.

use std::io;
use std::path::{Component, Path, PathBuf};
use std::time::UNIX_EPOCH;

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

    /// Removes the run's workspace and everything in it. A link a job left in place of
    /// the directory is removed itself, never followed. A workspace that is already
    /// gone is fine.
    pub fn remove(&self, run: i64) -> io::Result<()> {
        match std::fs::remove_dir_all(self.dir(run)) {
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(error) if error.kind() == io::ErrorKind::NotADirectory => {
                std::fs::remove_file(self.dir(run))
            }
            other => other,
        }
    }

    /// The run's workspace as the server made it: the run's directory under the real
    /// root, and only if it is a directory itself. A job that replaced its workspace by
    /// a symbolic link (to `/`, say) gets nothing: the link is never followed.
    fn base(&self, run: i64) -> Option<PathBuf> {
        let base = self.root.canonicalize().ok()?.join(run.to_string());
        let metadata = std::fs::symlink_metadata(&base).ok()?;
        metadata.is_dir().then_some(base)
    }

    /// Every regular file under the workspace, by path. Symbolic links are not followed
    /// nor listed: they could point anywhere.
    pub fn list(&self, run: i64) -> io::Result<Vec<FileInfo>> {
        let mut files = Vec::new();
        if let Some(base) = self.base(run) {
            collect(&base, &base, &mut files)?;
        }
        files.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(files)
    }

    /// The real path of `relative` in `run`'s workspace, if it is a regular file inside
    /// it. `..`, absolute paths and links leading outside are refused before anything is
    /// read.
    pub fn resolve(&self, run: i64, relative: &str) -> Result<PathBuf, PathError> {
        let unsafe_path = || PathError::Unsafe(relative.to_string());
        let path = Path::new(relative);
        let plain = !relative.is_empty()
            && !relative.contains('\0')
            && path
                .components()
                .all(|component| matches!(component, Component::Normal(_)));
        if !plain {
            return Err(unsafe_path());
        }
        let base = self
            .base(run)
            .ok_or_else(|| PathError::NotFound(relative.to_string()))?;
        let real = base
            .join(path)
            .canonicalize()
            .map_err(|_| PathError::NotFound(relative.to_string()))?;
        if !real.starts_with(&base) {
            return Err(unsafe_path());
        }
        if !real.is_file() {
            return Err(PathError::NotFound(relative.to_string()));
        }
        Ok(real)
    }
}

fn collect(base: &Path, dir: &Path, files: &mut Vec<FileInfo>) -> io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_dir() {
            collect(base, &entry.path(), files)?;
        } else if kind.is_file() {
            let metadata = entry.metadata()?;
            let relative = entry.path();
            let relative = relative.strip_prefix(base).unwrap_or(&relative);
            let modified_ms = metadata
                .modified()
                .ok()
                .and_then(|time| time.duration_since(UNIX_EPOCH).ok())
                .map_or(0, |elapsed| {
                    i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX)
                });
            files.push(FileInfo {
                path: relative
                    .components()
                    .map(|part| part.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/"),
                size: metadata.len(),
                modified_ms,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn lists_files_recursively_without_links() {
        let (workspaces, dir) = workspace();
        std::fs::write(dir.join("report.txt"), "rows: 10\n").expect("write");
        std::fs::create_dir_all(dir.join("out/deep")).expect("mkdir");
        std::fs::write(dir.join("out/deep/model.bin"), [0u8; 3]).expect("write");
        std::os::unix::fs::symlink("/etc/passwd", dir.join("link")).expect("link");
        let files = workspaces.list(7).expect("list");
        let listed: Vec<(&str, u64)> = files.iter().map(|f| (f.path.as_str(), f.size)).collect();
        assert_eq!(listed, [("out/deep/model.bin", 3), ("report.txt", 9)]);
        assert!(files.iter().all(|f| f.modified_ms > 0));
        assert!(workspaces.list(8).expect("no workspace").is_empty());
    }

    #[test]
    fn resolves_only_plain_paths_inside_the_workspace() {
        let (workspaces, dir) = workspace();
        std::fs::write(dir.join("report.txt"), "ok").expect("write");
        std::fs::create_dir_all(dir.join("sub")).expect("mkdir");
        std::fs::write(dir.join("sub/a.txt"), "a").expect("write");
        std::os::unix::fs::symlink("/etc/passwd", dir.join("escape")).expect("link");
        std::os::unix::fs::symlink("report.txt", dir.join("inside")).expect("link");

        assert_eq!(
            workspaces.resolve(7, "report.txt"),
            Ok(dir.canonicalize().expect("c").join("report.txt"))
        );
        assert!(workspaces.resolve(7, "sub/a.txt").is_ok());
        assert!(
            workspaces.resolve(7, "inside").is_ok(),
            "a link staying inside is fine"
        );
        for bad in [
            "../7/report.txt",
            "/etc/passwd",
            "sub/../report.txt",
            "./report.txt",
            "",
            "a\0b",
            "escape",
        ] {
            assert_eq!(
                workspaces.resolve(7, bad),
                Err(PathError::Unsafe(bad.to_string())),
                "{bad:?}"
            );
        }
        assert_eq!(
            workspaces.resolve(7, "missing.txt"),
            Err(PathError::NotFound("missing.txt".into()))
        );
        assert_eq!(
            workspaces.resolve(7, "sub"),
            Err(PathError::NotFound("sub".into()))
        );
    }
}
