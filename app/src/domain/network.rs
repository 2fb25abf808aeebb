//! What TCP connections a job may open: `network: none`, or `network: {connect: [443,
//! 80]}`. Without it a job gets the server's default (`--job-connect-ports`). The
//! server's own port and its store's are never among them: jobs do not reach the
//! control plane (the server enforces this with Landlock, see its `sandbox`).

use serde::{Deserialize, Serialize};

/// The most ports one job may list.
pub const MAX_CONNECT_PORTS: usize = 64;

/// A job's own network rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Network {
    /// `none`: no TCP connection at all.
    Keyword(NetworkKeyword),
    /// `{connect: [443]}`: TCP connections to these ports only.
    Connect(ConnectPorts),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NetworkKeyword {
    None,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectPorts {
    pub connect: Vec<u16>,
}

impl Network {
    /// The ports the job may connect to (none for `none`).
    pub fn ports(&self) -> &[u16] {
        match self {
            Network::Keyword(NetworkKeyword::None) => &[],
            Network::Connect(ports) => &ports.connect,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_none_or_a_list_of_ports() {
        let none: Network = serde_json::from_str("\"none\"").expect("none");
        assert_eq!(none.ports(), &[] as &[u16]);
        let some: Network = serde_json::from_str(r#"{"connect": [443, 80]}"#).expect("ports");
        assert_eq!(some.ports(), &[443, 80]);
        for bad in [r#""all""#, r#"{"connect": [70000]}"#, r#"{"accept": [1]}"#] {
            assert!(serde_json::from_str::<Network>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_pipeline_keeps_its_rules_through_yaml_and_bad_lists_are_named() {
        let text = "name: n\njobs:\n  - {id: a, run: 'true', network: none}\n  - {id: b, run: 'true', network: {connect: [443, 80]}}\n";
        let pipeline = crate::domain::Pipeline::parse(text).expect("parse");
        let again = crate::domain::Pipeline::parse(&pipeline.to_yaml()).expect("reparse");
        assert_eq!(again, pipeline);
        assert_eq!(
            pipeline.jobs[1].network.as_ref().map(Network::ports),
            Some(&[443, 80][..])
        );
        for (ports, problem) in [("[]", "no port"), ("[0, 22]", "port 0")] {
            let text = format!(
                "name: n\njobs:\n  - {{id: a, run: 'true', network: {{connect: {ports}}}}}\n"
            );
            let pipeline = crate::domain::Pipeline::parse(&text).expect("parse");
            let refused = crate::domain::validate(&pipeline).expect_err("refused");
            let said = refused.to_string();
            assert!(
                said.contains(problem) && said.contains("`network: none`"),
                "{said}"
            );
        }
    }
}
