//! Reading (and the server's own few writes) below a directory without ever following a
//! symbolic link.
//!
//! A job owns its workspace and may rename, delete or replace any part of it while the
//! server reads it. Checking a path and then opening it by path again leaves a window in
//! which a directory can become a link to `/`. Here every step is taken relative to a
//! directory that is already open (`openat`, `fstatat`, `fdopendir`), with `O_NOFOLLOW`:
//! a link met at any step is refused (`ELOOP`), never followed, and what was checked is
//! what is read. Every link is refused, even one that stays inside: that rule needs no
//! reasoning about where a link leads, so it leaves no window.

use std::ffi::{CStr, CString, OsStr, OsString};
use std::fs::File;
use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::ptr::NonNull;

/// What an entry is, as `fstatat` sees it without following a link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    File,
    Dir,
    Link,
    /// A FIFO, socket or device: never read, opening one can block or have effects.
    Other,
}

/// An entry of a directory, described without following it.
#[derive(Clone, Copy, Debug)]
pub(super) struct Entry {
    pub kind: Kind,
    pub size: u64,
    /// Milliseconds since the Unix epoch; 0 for a time before it.
    pub modified_ms: i64,
}

fn c_name(name: &OsStr) -> io::Result<CString> {
    CString::new(name.as_bytes()).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
}

fn openat(parent: BorrowedFd<'_>, name: &OsStr, flags: libc::c_int) -> io::Result<OwnedFd> {
    let name = c_name(name)?;
    // SAFETY: `parent` is an open descriptor for the whole call and `name` is a
    // NUL-terminated string that outlives it; `openat` keeps neither.
    let fd = unsafe { libc::openat(parent.as_raw_fd(), name.as_ptr(), flags) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `openat` just returned this descriptor and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Opens the directory `name` in `parent`. A link there fails with `ELOOP`, anything
/// else that is not a directory with `ENOTDIR`.
pub(super) fn open_dir(parent: BorrowedFd<'_>, name: &OsStr) -> io::Result<OwnedFd> {
    let opened = openat(
        parent,
        name,
        libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC,
    );
    match opened {
        // With `O_DIRECTORY` Linux answers `ENOTDIR` for a link too. Look again only to
        // name the refusal: nothing was opened either way.
        Err(error) if error.raw_os_error() == Some(libc::ENOTDIR) => match stat_at(parent, name) {
            Ok(Entry {
                kind: Kind::Link, ..
            }) => Err(io::Error::from_raw_os_error(libc::ELOOP)),
            _ => Err(error),
        },
        other => other,
    }
}

/// Describes `name` in `parent` as it is: a link is described, not followed.
pub(super) fn stat_at(parent: BorrowedFd<'_>, name: &OsStr) -> io::Result<Entry> {
    let name = c_name(name)?;
    let mut stat = MaybeUninit::<libc::stat>::uninit();
    // SAFETY: `parent` is open for the call, `name` is NUL-terminated and `stat` points to
    // writable memory the size of a `struct stat`.
    let failed = unsafe {
        libc::fstatat(
            parent.as_raw_fd(),
            name.as_ptr(),
            stat.as_mut_ptr(),
            libc::AT_SYMLINK_NOFOLLOW,
        )
    };
    if failed != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fstatat` succeeded, so it filled in the whole structure.
    let stat = unsafe { stat.assume_init() };
    let kind = match stat.st_mode & libc::S_IFMT {
        libc::S_IFREG => Kind::File,
        libc::S_IFDIR => Kind::Dir,
        libc::S_IFLNK => Kind::Link,
        _ => Kind::Other,
    };
    let modified_ms = if stat.st_mtime < 0 {
        0
    } else {
        stat.st_mtime
            .saturating_mul(1000)
            .saturating_add(stat.st_mtime_nsec / 1_000_000)
    };
    Ok(Entry {
        kind,
        size: u64::try_from(stat.st_size).unwrap_or(0),
        modified_ms,
    })
}

/// Opens `name` in `parent` for reading if it is a regular file: `Ok(None)` if it is a
/// directory, FIFO, socket or device, `ELOOP` if it is a link.
///
/// The entry is described first so that a device or FIFO is never opened at all; if it
/// is swapped between that look and the open, `O_NONBLOCK` keeps a FIFO from blocking
/// the open (it changes nothing for a regular file) and the open file is checked again.
pub(super) fn open_file(parent: BorrowedFd<'_>, name: &OsStr) -> io::Result<Option<File>> {
    match stat_at(parent, name)?.kind {
        Kind::File => {}
        Kind::Link => return Err(io::Error::from_raw_os_error(libc::ELOOP)),
        Kind::Dir | Kind::Other => return Ok(None),
    }
    let fd = openat(
        parent,
        name,
        libc::O_RDONLY | libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_NONBLOCK | libc::O_NOCTTY,
    )?;
    let file = File::from(fd);
    let regular = file.metadata()?.file_type().is_file();
    Ok(regular.then_some(file))
}

/// Makes the directory `name` in `parent` unless an entry of that name exists (what it
/// is, is for [`open_dir`] to find out: a link there is refused when opened).
pub(super) fn make_dir(parent: BorrowedFd<'_>, name: &OsStr) -> io::Result<()> {
    let name = c_name(name)?;
    // SAFETY: `parent` is open and `name` NUL-terminated for the whole call.
    if unsafe { libc::mkdirat(parent.as_raw_fd(), name.as_ptr(), 0o755) } == 0 {
        return Ok(());
    }
    let error = io::Error::last_os_error();
    match error.raw_os_error() {
        Some(libc::EEXIST) => Ok(()),
        _ => Err(error),
    }
}

/// Writes `bytes` as the file `name` in `parent`, replacing whatever entry had that name:
/// the bytes go to a new file under a random name (`O_EXCL | O_NOFOLLOW`: nothing a job
/// prepared is opened), which is then renamed over `name`. A link at `name` is replaced
/// itself, never written through.
pub(super) fn replace_file(parent: BorrowedFd<'_>, name: &OsStr, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    let mut temp_name = OsString::from(".");
    temp_name.push(name);
    temp_name.push(format!(".{:016x}.tmp", rand::random::<u64>()));
    let temp = c_name(&temp_name)?;
    let flags = libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW | libc::O_CLOEXEC;
    // SAFETY: as in `openat`; the mode argument is required with `O_CREAT`.
    let fd = unsafe {
        libc::openat(
            parent.as_raw_fd(),
            temp.as_ptr(),
            flags,
            0o644 as libc::c_uint,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `openat` just returned this descriptor and nothing else owns it.
    let mut file = File::from(unsafe { OwnedFd::from_raw_fd(fd) });
    let target = c_name(name)?;
    let written = file.write_all(bytes).and_then(|()| {
        // SAFETY: both names are NUL-terminated and `parent` is open for the call.
        let renamed = unsafe {
            libc::renameat(
                parent.as_raw_fd(),
                temp.as_ptr(),
                parent.as_raw_fd(),
                target.as_ptr(),
            )
        };
        if renamed == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    });
    if written.is_err() {
        // SAFETY: as above; the temporary file is ours and may be left half written.
        unsafe { libc::unlinkat(parent.as_raw_fd(), temp.as_ptr(), 0) };
    }
    written
}

/// An open directory stream, closed (with its descriptor) when dropped.
struct Stream(NonNull<libc::DIR>);

impl Drop for Stream {
    fn drop(&mut self) {
        // SAFETY: the stream came from `fdopendir` and is closed only here, once.
        unsafe { libc::closedir(self.0.as_ptr()) };
    }
}

/// The names in the open directory `dir`, without `.` and `..`.
pub(super) fn names(dir: BorrowedFd<'_>) -> io::Result<Vec<OsString>> {
    // `fdopendir` takes over the descriptor it is given and reads from its offset: give it
    // a fresh open of the same directory (`.` is never a link) so `dir` stays usable.
    let own = openat(
        dir,
        OsStr::new("."),
        libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
    )?;
    // SAFETY: `own` is an open directory descriptor; on success the stream owns it.
    let stream = unsafe { libc::fdopendir(own.as_raw_fd()) };
    let Some(stream) = NonNull::new(stream) else {
        return Err(io::Error::last_os_error());
    };
    // The stream closes the descriptor now: forget it here so it is not closed twice.
    std::mem::forget(own);
    let stream = Stream(stream);
    let mut names = Vec::new();
    loop {
        // `readdir` answers NULL both at the end and on an error; only an error sets errno.
        // SAFETY: errno is thread-local; writing it only affects this thread.
        unsafe { *libc::__errno_location() = 0 };
        // SAFETY: the stream is open and used by this thread only.
        let entry = unsafe { libc::readdir(stream.0.as_ptr()) };
        if entry.is_null() {
            let error = io::Error::last_os_error();
            return match error.raw_os_error() {
                Some(0) | None => Ok(names),
                Some(_) => Err(error),
            };
        }
        // SAFETY: `readdir` returned a valid entry whose `d_name` is NUL-terminated; it
        // stays valid until the next `readdir` on this stream, and is copied before that.
        let name = unsafe { CStr::from_ptr((*entry).d_name.as_ptr()) }.to_bytes();
        if name != b"." && name != b".." {
            names.push(OsString::from_vec(name.to_vec()));
        }
    }
}
