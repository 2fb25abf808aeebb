//! A job's private directory, given to it as `TMPDIR` and `HOME`.
//!
//! It is `<data dir>/workspaces/.tmp-<run>-<job>`, a sibling of the run's workspace:
//! - outside every run's workspace, so it is never listed nor served by `/files/` and
//!   other jobs of the run do not see it;
//! - a name no run can have (run workspaces are named by number);
//! - on the same filesystem as the workspace, so moving a result from `TMPDIR` into the
//!   workspace is a rename, not a copy;
//! - granted by the sandbox to this one job only.
//!
//! It is created empty (with mode 0700) when the job starts and removed when it ends.

use std::io;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

/// The job's temporary directory; [`JobTmp::remove`] deletes it.
#[derive(Debug)]
pub struct JobTmp {
    path: PathBuf,
}

impl JobTmp {
    /// Creates the directory for job `job` of run `run`, whose workspace is
    /// `workspace`. What an earlier attempt left there (a server killed mid-job) is
    /// removed first.
    pub fn create(workspace: &Path, run: i64, job: &str) -> io::Result<JobTmp> {
        let path = workspace.with_file_name(format!(".tmp-{run}-{job}"));
        let mut builder = std::fs::DirBuilder::new();
        builder.mode(0o700);
        // Usually there is nothing there: one `mkdir`, no look first.
        match builder.create(&path) {
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {
                std::fs::remove_dir_all(&path)?;
                builder.create(&path)?;
            }
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                builder.recursive(true).create(&path)?;
            }
            other => other?,
        }
        Ok(JobTmp { path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Deletes the directory and what the job left in it; a failure is logged, not
    /// fatal: the job has ended either way.
    pub async fn remove(self) {
        if let Err(error) = tokio::fs::remove_dir_all(&self.path).await
            && error.kind() != io::ErrorKind::NotFound
        {
            tracing::warn!(path = %self.path.display(), %error, "could not remove a job's temporary directory");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[tokio::test]
    async fn is_a_fresh_private_sibling_of_the_workspace_and_goes_away() {
        let data = std::env::temp_dir().join(format!("tollgate-jobtmp-{}", std::process::id()));
        let workspace = data.join("workspaces").join("7");
        std::fs::create_dir_all(&workspace).expect("workspace");

        let first = JobTmp::create(&workspace, 7, "train").expect("create");
        assert_eq!(first.path(), data.join("workspaces/.tmp-7-train"));
        std::fs::write(first.path().join("left-over"), "x").expect("write");

        let again = JobTmp::create(&workspace, 7, "train").expect("create again");
        assert_eq!(
            std::fs::read_dir(again.path()).expect("list").count(),
            0,
            "starts empty"
        );
        let mode = std::fs::metadata(again.path())
            .expect("stat")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700);

        let path = again.path().to_path_buf();
        again.remove().await;
        assert!(!path.exists());
        assert!(workspace.is_dir(), "the workspace stays");
        let _ = std::fs::remove_dir_all(&data);
    }
}
