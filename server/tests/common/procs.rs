//! Looking for a test's processes in `/proc`, by a marker in their command line (e.g.
//! `sleep 3917.5`, a duration unique to one test), so "nothing is left behind" is
//! checked on the real process table.

use std::time::{Duration, Instant};

/// The pids of processes whose command line contains `marker` (arguments joined by
/// spaces).
pub fn with_marker(marker: &str) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|raw| {
                let line: Vec<u8> = raw
                    .iter()
                    .map(|&byte| if byte == 0 { b' ' } else { byte })
                    .collect();
                String::from_utf8_lossy(&line).contains(marker)
            })
        })
        .collect()
}

/// Waits until no process carries `marker` (at most `limit`); returns how long it took.
pub async fn wait_gone(marker: &str, limit: Duration) -> Duration {
    let start = Instant::now();
    loop {
        let left = with_marker(marker);
        if left.is_empty() {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < limit,
            "processes with `{marker}` still alive after {limit:?}: {left:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until some process carries `marker` (at most 20 s).
pub async fn wait_present(marker: &str) {
    let start = Instant::now();
    while with_marker(marker).is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no process with `{marker}` started"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The children of `parent` that exited and were not reaped (zombies).
pub fn zombie_children(parent: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let parent = parent.to_string();
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                return false;
            };
            // The fields after the command name, which may hold spaces: state, ppid, ...
            let fields: Vec<&str> = stat
                .rsplit_once(')')
                .map(|(_, rest)| rest.split_whitespace().collect())
                .unwrap_or_default();
            fields.first() == Some(&"Z") && fields.get(1) == Some(&parent.as_str())
        })
        .collect()
}
