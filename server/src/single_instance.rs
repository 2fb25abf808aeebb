//! One server per SQLite file: SQLite has a single writer and the scheduler assumes it
//! owns every job in the file, so a second process on the same data directory is
//! refused at start instead of corrupting runs. (Postgres is for several replicas.)

use std::fs::{File, OpenOptions, TryLockError};
use std::path::Path;

/// Holds the data directory's lock for as long as it lives.
#[derive(Debug)]
pub struct DataDirLock {
    _file: File,
}

/// Takes the exclusive lock on `<data dir>/tollgate.lock`, or says who holds it.
pub fn lock_data_dir(data_dir: &Path) -> Result<DataDirLock, String> {
    let path = data_dir.join("tollgate.lock");
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&path)
        .map_err(|err| format!("cannot open {}: {err}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(DataDirLock { _file: file }),
        Err(TryLockError::WouldBlock) => Err(format!(
            "another Tollgate server is already using the SQLite database in {}; stop it, \
             or give this one its own TOLLGATE_DATA_DIR (several replicas need Postgres: set DATABASE_URL)",
            data_dir.display()
        )),
        Err(TryLockError::Error(err)) => Err(format!("cannot lock {}: {err}", path.display())),
    }
}
