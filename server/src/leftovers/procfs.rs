//! What `/proc` says about processes: parent, group, state and start time from
//! `/proc/<pid>/stat`, the job marker from `/proc/<pid>/environ`, and the server's
//! children from `/proc/<pid>/task/<pid>/children`.
//!
//! Everything here is a snapshot that may be stale by the time it is read: a process
//! can exit or fork meanwhile. The callers account for that (start times tell a pid
//! reused by a later process; the search is repeated until it finds nothing).

use std::collections::HashSet;

use super::JobMark;

/// One process as `/proc/<pid>/stat` shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Proc {
    pub pid: i32,
    pub ppid: i32,
    pub pgid: i32,
    /// Exited, not yet reaped by its parent.
    pub zombie: bool,
    /// Clock ticks after boot when it started: with the pid, names one process.
    pub start: u64,
}

/// Every process visible in `/proc`; those that vanish while being read are skipped.
pub(super) fn processes() -> Vec<Proc> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(stat)
        .collect()
}

/// The process `pid`, or `None` when there is none (any more).
pub(super) fn stat(pid: i32) -> Option<Proc> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(pid, &text)
}

/// Parses a `stat` line. The command name (field 2) is in parentheses and may itself
/// hold spaces and parentheses, so the fields are counted from the last `)`.
fn parse_stat(pid: i32, text: &str) -> Option<Proc> {
    let (_, rest) = text.rsplit_once(')')?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state (3), ppid (4), pgrp (5), ..., starttime (22).
    Some(Proc {
        pid,
        zombie: matches!(fields.first(), Some(&"Z") | Some(&"X")),
        ppid: fields.get(1)?.parse().ok()?,
        pgid: fields.get(2)?.parse().ok()?,
        start: fields.get(19)?.parse().ok()?,
    })
}

/// The job `pid` was started for, from its environment; `None` when it has no marker
/// or its environment cannot be read (a zombie has none left; a process that made
/// itself undumpable hides it).
pub(super) fn mark_of(pid: i32) -> Option<JobMark> {
    let environ = std::fs::read(format!("/proc/{pid}/environ")).ok()?;
    parse_mark(&environ)
}

fn parse_mark(environ: &[u8]) -> Option<JobMark> {
    let mut run = None;
    let mut job = None;
    for entry in environ.split(|byte| *byte == 0) {
        if let Some(value) = entry.strip_prefix(b"TOLLGATE_RUN_ID=") {
            run = std::str::from_utf8(value).ok()?.parse().ok();
        } else if let Some(value) = entry.strip_prefix(b"TOLLGATE_JOB_ID=") {
            job = Some(String::from_utf8_lossy(value).into_owned());
        }
    }
    Some(JobMark {
        run: run?,
        job: job?,
    })
}

/// The children of the server's main thread, or `None` when the kernel does not list
/// them (it needs `CONFIG_PROC_CHILDREN`, which common distribution kernels enable).
///
/// Orphans are reparented to the first live thread of the subreaper, which is the main
/// thread (it runs the server's `main` until the end), so one small read shows every
/// orphan: that is what makes looking for leftovers after each job cheap.
pub(super) fn main_thread_children() -> Option<HashSet<i32>> {
    let me = std::process::id();
    let text = std::fs::read_to_string(format!("/proc/{me}/task/{me}/children")).ok()?;
    Some(
        text.split_whitespace()
            .filter_map(|pid| pid.parse().ok())
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_from_the_last_parenthesis() {
        let line = "4242 (a (b) c) S 17 4242 4242 0 -1 4194560 98 0 0 0 0 0 0 0 20 0 1 0 \
                    123456 2355200 154 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0";
        assert_eq!(
            parse_stat(4242, line),
            Some(Proc {
                pid: 4242,
                ppid: 17,
                pgid: 4242,
                zombie: false,
                start: 123456,
            })
        );
        assert_eq!(parse_stat(1, "1 (init"), None);
    }

    #[test]
    fn the_marker_needs_both_variables() {
        let environ = b"PATH=/bin\0TOLLGATE_RUN_ID=42\0TOLLGATE_JOB_ID=build step\0";
        assert_eq!(
            parse_mark(environ),
            Some(JobMark {
                run: 42,
                job: "build step".into()
            })
        );
        assert_eq!(parse_mark(b"TOLLGATE_RUN_ID=42\0"), None);
        assert_eq!(parse_mark(b""), None);
    }

    #[test]
    fn this_process_is_found() {
        let me = i32::try_from(std::process::id()).unwrap_or_default();
        let found = stat(me).expect("own stat");
        assert!(!found.zombie);
        assert!(processes().iter().any(|process| process.pid == me));
    }
}
