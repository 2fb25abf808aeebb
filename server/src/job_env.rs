//! A job's environment is an allowlist. The child starts from an empty environment and
//! gets only what this file lists, so nothing the server was given (`DATABASE_URL`,
//! tokens, passwords) reaches a job unless the pipeline puts it in the job's `env`.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::Path;

/// Copied from the server's environment when set: where programs are, the language and
/// the time zone. None of them carries a secret.
///
/// `HOME` is not among them: it is the job's private directory, like `TMPDIR`. The
/// server's home holds its user's credentials (`~/.ssh`, `~/.aws`, ...), so the sandbox
/// grants no access to it, and a `HOME` a job cannot read breaks common tools (`git
/// init` stops with "unknown error occurred while reading the configuration files").
/// A private, writable home lets them work and keeps what they write there per job.
pub const INHERITED: [&str; 5] = ["PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ"];

/// `PATH` when the server has none (or an empty one, which some shells would take as
/// the current directory).
pub const DEFAULT_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// Who a job is and where its files go.
#[derive(Clone, Copy, Debug)]
pub struct JobPlace<'a> {
    pub run_id: i64,
    pub job_id: &'a str,
    pub workspace: &'a Path,
    /// The job's private directory, given as `TMPDIR` and `HOME`.
    pub tmp: &'a Path,
    /// The run's gate records, read-only to the job (`TOLLGATE_GATES_DIR`).
    pub gates: &'a Path,
}

/// The whole environment of a job. Later entries win: the inherited allowlist, then
/// `TMPDIR` and `HOME`, then the job's own `env` (which may replace any of those), then
/// what the gates before it decided (`choices`, `TOLLGATE_GATE_*`), then the four
/// `TOLLGATE_*` variables of its place, which nothing overrides: any other `TOLLGATE_` name of the
/// job's own `env` is dropped, so a job cannot forge a gate's decision. (Validation already refuses `env` names starting with `TOLLGATE_`; this
/// also covers a pipeline stored before that rule.)
///
/// `server` reads one variable of the server's environment; it is a parameter so the
/// rule can be tested without changing the test process's environment.
pub fn job_env(
    server: impl Fn(&'static str) -> Option<OsString>,
    own: &BTreeMap<String, String>,
    choices: &BTreeMap<String, String>,
    place: JobPlace<'_>,
) -> BTreeMap<OsString, OsString> {
    let mut env = BTreeMap::new();
    for name in INHERITED {
        if let Some(value) = server(name).filter(|value| !value.is_empty()) {
            env.insert(OsString::from(name), value);
        }
    }
    env.entry(OsString::from("PATH"))
        .or_insert_with(|| OsString::from(DEFAULT_PATH));
    for name in ["TMPDIR", "HOME"] {
        env.insert(OsString::from(name), place.tmp.as_os_str().to_owned());
    }
    for (name, value) in own {
        env.insert(OsString::from(name), OsString::from(value));
    }
    env.retain(|name, _| !name.to_string_lossy().starts_with("TOLLGATE_"));
    for (name, value) in choices {
        env.insert(OsString::from(name), OsString::from(value));
    }
    env.insert(
        OsString::from("TOLLGATE_RUN_ID"),
        OsString::from(place.run_id.to_string()),
    );
    env.insert(
        OsString::from("TOLLGATE_JOB_ID"),
        OsString::from(place.job_id),
    );
    env.insert(
        OsString::from("TOLLGATE_WORKSPACE"),
        place.workspace.as_os_str().to_owned(),
    );
    env.insert(
        OsString::from("TOLLGATE_GATES_DIR"),
        place.gates.as_os_str().to_owned(),
    );
    env
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place() -> JobPlace<'static> {
        JobPlace {
            run_id: 42,
            job_id: "train",
            workspace: Path::new("/data/workspaces/42"),
            tmp: Path::new("/data/workspaces/.tmp-42-train"),
            gates: Path::new("/data/workspaces/.gates-42"),
        }
    }

    fn as_strings(env: BTreeMap<OsString, OsString>) -> Vec<(String, String)> {
        env.into_iter()
            .map(|(name, value)| {
                (
                    name.to_string_lossy().into_owned(),
                    value.to_string_lossy().into_owned(),
                )
            })
            .collect()
    }

    #[test]
    fn only_the_allowlist_passes_and_tollgate_variables_win() {
        let server = |name: &str| {
            let value = match name {
                "PATH" => "/opt/tools/bin:/usr/bin",
                "HOME" => "/home/tollgate",
                "LANG" => "C.UTF-8",
                "DATABASE_URL" => "postgres://secret@db/tollgate",
                "TOLLGATE_ADMIN_PASSWORD" => "secret",
                "AWS_SECRET_ACCESS_KEY" => "secret",
                "TOLLGATE_RUN_ID" => "999",
                _ => return None,
            };
            Some(OsString::from(value))
        };
        let own = BTreeMap::from([
            ("MODEL".to_string(), "small".to_string()),
            ("LANG".to_string(), "fr_FR.UTF-8".to_string()),
            ("TOLLGATE_JOB_ID".to_string(), "forged".to_string()),
            (
                "TOLLGATE_GATE_PREP_OPTION".to_string(),
                "forged".to_string(),
            ),
        ]);
        let choices = BTreeMap::from([(
            "TOLLGATE_GATE_PREP_OPTION".to_string(),
            "rollback".to_string(),
        )]);
        assert_eq!(
            as_strings(job_env(server, &own, &choices, place())),
            [
                ("HOME", "/data/workspaces/.tmp-42-train"),
                ("LANG", "fr_FR.UTF-8"),
                ("MODEL", "small"),
                ("PATH", "/opt/tools/bin:/usr/bin"),
                ("TMPDIR", "/data/workspaces/.tmp-42-train"),
                ("TOLLGATE_GATES_DIR", "/data/workspaces/.gates-42"),
                ("TOLLGATE_GATE_PREP_OPTION", "rollback"),
                ("TOLLGATE_JOB_ID", "train"),
                ("TOLLGATE_RUN_ID", "42"),
                ("TOLLGATE_WORKSPACE", "/data/workspaces/42"),
            ]
            .map(|(name, value)| (name.to_string(), value.to_string()))
        );
    }

    #[test]
    fn path_has_a_default_when_the_server_has_none() {
        for path in [None, Some("")] {
            let env = job_env(
                |name| {
                    (name == "PATH")
                        .then_some(path)
                        .flatten()
                        .map(OsString::from)
                },
                &BTreeMap::new(),
                &BTreeMap::new(),
                place(),
            );
            assert_eq!(
                env.get(&OsString::from("PATH")),
                Some(&OsString::from(DEFAULT_PATH)),
                "{path:?}"
            );
            assert!(!env.contains_key(&OsString::from("LANG")));
        }
    }
}
