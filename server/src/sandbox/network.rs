//! Which TCP ports a job may connect to.
//!
//! Landlock (ABI 4, Linux 6.7) can only allow ports, not deny some: a rule that let a
//! job reach every port but the control plane's would list 65,533 ports, which made each
//! job's start take 36 ms instead of 5 (the kernel copies the rules into every job's
//! sandbox). So jobs get a short allowlist: the server's default
//! (`--job-connect-ports`, `22,53,80,443` unless set: ssh, DNS over TCP, http, https),
//! or the job's own `network:`. The server's listening port and its store's port are
//! never allowed, whichever list is asked for: a pipeline that lists one is refused,
//! and so is an operator's `--job-connect-ports` that does (the built-in default just
//! leaves it out). `--job-connect-ports any` lifts the rule (with
//! a warning: jobs can then reach the store and the API). UDP (DNS) is not covered by
//! Landlock and stays open.

use std::sync::OnceLock;

use app::domain::network::Network;
use app::domain::{Pipeline, ValidationError, ValidationErrors};

/// The server's default allowlist when `--job-connect-ports` is not given.
pub const DEFAULT_CONNECT_PORTS: &str = "22,53,80,443";

/// What jobs may connect to, for the whole server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetworkPolicy {
    /// The ports of jobs without a `network:` of their own; `None`: any.
    pub default: Option<Vec<u16>>,
    /// The control plane's ports, with what each is, never allowed.
    pub control: Vec<(u16, String)>,
}

static POLICY: OnceLock<NetworkPolicy> = OnceLock::new();

impl NetworkPolicy {
    /// Reads `--job-connect-ports`: `any`, or ports separated by commas. A port of the
    /// control plane is refused with a message that says which it is.
    pub fn new(connect_ports: &str, control: Vec<(u16, String)>) -> Result<NetworkPolicy, String> {
        let text = connect_ports.trim();
        let default = if text.eq_ignore_ascii_case("any") {
            None
        } else {
            let mut ports = Vec::new();
            for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                let port = part.parse::<u16>().ok().filter(|p| *p != 0).ok_or_else(|| {
                    format!(
                        "--job-connect-ports: `{part}` is not a port; give ports from 1 to 65535 \
                         separated by commas (e.g. 443,80), or `any`"
                    )
                })?;
                if let Some((_, what)) = control.iter().find(|(p, _)| *p == port) {
                    return Err(format!(
                        "--job-connect-ports lists {port}, the port of {what}: jobs must not reach \
                         Tollgate's own server or store; remove it"
                    ));
                }
                ports.push(port);
            }
            Some(ports)
        };
        Ok(NetworkPolicy { default, control })
    }

    /// The default list, without the ports of the control plane: a server that listens
    /// on 443 itself still starts when the operator set no list.
    pub fn by_default(control: Vec<(u16, String)>) -> NetworkPolicy {
        let ports = DEFAULT_CONNECT_PORTS
            .split(',')
            .filter_map(|port| port.parse::<u16>().ok())
            .filter(|port| !control.iter().any(|(p, _)| p == port))
            .collect();
        NetworkPolicy {
            default: Some(ports),
            control,
        }
    }

    /// The ports a job may connect to: its own list, else the default, without the
    /// control plane's; `None` when any port is allowed.
    pub fn ports_for(&self, job: Option<&Network>) -> Option<Vec<u16>> {
        let ports = match job {
            Some(network) => network.ports().to_vec(),
            None => self.default.clone()?,
        };
        Some(
            ports
                .into_iter()
                .filter(|port| !self.control.iter().any(|(p, _)| p == port))
                .collect(),
        )
    }

    /// Refuses a pipeline whose job lists a port of the control plane (422).
    pub fn check(&self, pipeline: &Pipeline) -> Result<(), ValidationErrors> {
        let errors: Vec<ValidationError> = pipeline
            .jobs
            .iter()
            .flat_map(|job| {
                let ports = job.network.as_ref().map(Network::ports).unwrap_or_default();
                ports.iter().filter_map(|port| {
                    self.control
                        .iter()
                        .find(|(p, _)| p == port)
                        .map(|(port, what)| ValidationError::ControlPlanePort {
                            job: job.id.clone(),
                            port: *port,
                            what: what.clone(),
                        })
                })
            })
            .collect();
        ValidationErrors::result(errors)
    }

    /// One line for `/readyz` and the start-up log, given the kernel's Landlock ABI.
    pub fn describe(&self, abi: Option<i64>) -> String {
        match (&self.default, abi) {
            (None, _) => "any port (--job-connect-ports any)".to_string(),
            (Some(_), Some(abi)) if abi >= 4 => {
                let ports = self
                    .default
                    .iter()
                    .flatten()
                    .map(u16::to_string)
                    .collect::<Vec<_>>()
                    .join(",");
                format!("tcp connect to {ports} unless a job says otherwise")
            }
            (Some(_), _) => "any port: TCP rules need Landlock ABI 4 (Linux 6.7)".to_string(),
        }
    }
}

/// Sets the server's policy, once, before any job starts.
pub fn set_policy(policy: NetworkPolicy) {
    let _ = POLICY.set(policy);
}

/// The server's policy; any port until one is set.
pub fn policy() -> &'static NetworkPolicy {
    POLICY.get_or_init(|| NetworkPolicy {
        default: None,
        control: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn control() -> Vec<(u16, String)> {
        vec![(3000, "the server".into()), (5432, "the store".into())]
    }

    #[test]
    fn jobs_get_their_list_or_the_default_never_the_control_plane() {
        let policy = NetworkPolicy::new("443, 80", control()).expect("policy");
        assert_eq!(policy.ports_for(None), Some(vec![443, 80]));
        let own: Network = serde_json::from_str(r#"{"connect": [5432, 8080]}"#).expect("ports");
        assert_eq!(policy.ports_for(Some(&own)), Some(vec![8080]));
        let none: Network = serde_json::from_str("\"none\"").expect("none");
        assert_eq!(policy.ports_for(Some(&none)), Some(vec![]));
        let any = NetworkPolicy::new("any", control()).expect("any");
        assert_eq!(any.ports_for(None), None);
        assert_eq!(any.ports_for(Some(&own)), Some(vec![8080]));
    }

    #[test]
    fn a_default_or_a_job_that_names_the_control_plane_is_refused() {
        let refused = NetworkPolicy::new("443,5432", control()).expect_err("store port");
        assert!(refused.contains("5432, the port of the store"), "{refused}");
        let refused = NetworkPolicy::new("443,http", control()).expect_err("not a port");
        assert!(refused.contains("`http` is not a port"), "{refused}");
        let policy = NetworkPolicy::new(DEFAULT_CONNECT_PORTS, control()).expect("policy");
        assert_eq!(policy, NetworkPolicy::by_default(control()));
        let on_https = NetworkPolicy::by_default(vec![(443, "the server".into())]);
        assert_eq!(
            on_https.default,
            Some(vec![22, 53, 80]),
            "not refused, left out"
        );
        let pipeline = Pipeline::parse(
            "name: n\njobs:\n  - {id: a, run: 'true', network: {connect: [443, 3000]}}\n",
        )
        .expect("parse");
        let said = policy.check(&pipeline).expect_err("refused").to_string();
        assert!(said.contains("job `a` lists port 3000"), "{said}");
    }
}
