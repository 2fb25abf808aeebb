//! Paths beyond the system's that the operator lets every job use: a conda or pyenv
//! install to read and run (`--job-read-path`), a shared dataset directory to write
//! (`--job-write-path`). A path that holds the data directory, or lies inside it, is
//! refused at start: jobs would reach the database and every run's workspace.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The operator's extra paths, checked.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExtraPaths {
    /// Read and execute.
    pub read: Vec<PathBuf>,
    /// Read, write and execute.
    pub write: Vec<PathBuf>,
}

static EXTRA: OnceLock<ExtraPaths> = OnceLock::new();

impl ExtraPaths {
    /// Checks each path: it must exist, and neither hold nor lie in `data_dir`.
    pub fn new(read: &[PathBuf], write: &[PathBuf], data_dir: &Path) -> Result<ExtraPaths, String> {
        let data = std::fs::canonicalize(data_dir).map_err(|err| {
            format!(
                "cannot resolve the data directory {}: {err}",
                data_dir.display()
            )
        })?;
        let check = |flag: &str, path: &PathBuf| -> Result<PathBuf, String> {
            let real = std::fs::canonicalize(path).map_err(|err| {
                format!(
                    "{flag} {}: {err}; give a directory that exists",
                    path.display()
                )
            })?;
            if data.starts_with(&real) || real.starts_with(&data) {
                return Err(format!(
                    "{flag} {} would let jobs reach the data directory {} (the database and every \
                     run's workspace): give a path outside it",
                    path.display(),
                    data.display()
                ));
            }
            Ok(real)
        };
        Ok(ExtraPaths {
            read: read
                .iter()
                .map(|p| check("--job-read-path", p))
                .collect::<Result<_, _>>()?,
            write: write
                .iter()
                .map(|p| check("--job-write-path", p))
                .collect::<Result<_, _>>()?,
        })
    }
}

/// Sets the server's extra paths, once, before any job starts.
pub fn set_extra_paths(paths: ExtraPaths) {
    let _ = EXTRA.set(paths);
}

/// The server's extra paths; none until set.
pub fn extra_paths() -> &'static ExtraPaths {
    EXTRA.get_or_init(ExtraPaths::default)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_around_the_data_directory_are_refused() {
        let root = std::env::temp_dir().join(format!("tollgate-extra-{}", std::process::id()));
        let data = root.join("data");
        let conda = root.join("conda");
        std::fs::create_dir_all(data.join("workspaces")).expect("data");
        std::fs::create_dir_all(&conda).expect("conda");
        let ok = ExtraPaths::new(std::slice::from_ref(&conda), &[], &data).expect("outside");
        assert_eq!(ok.read, [std::fs::canonicalize(&conda).expect("real")]);
        for (read, write) in [
            (vec![root.clone()], vec![]),
            (vec![], vec![data.join("workspaces")]),
            (vec![data.clone()], vec![]),
        ] {
            let refused = ExtraPaths::new(&read, &write, &data).expect_err("around the data");
            assert!(
                refused.contains("would let jobs reach the data directory"),
                "{refused}"
            );
        }
        let missing = ExtraPaths::new(&[root.join("nope")], &[], &data).expect_err("missing");
        assert!(
            missing.contains("give a directory that exists"),
            "{missing}"
        );
        let _ = std::fs::remove_dir_all(&root);
    }
}
