//! Builders for the domain's unit tests.

use super::pipeline::{GateSpec, JobSpec, Pipeline};

/// A job running `echo <id>` after `depends_on`.
pub fn job(id: &str, depends_on: &[&str]) -> JobSpec {
    JobSpec {
        id: id.to_string(),
        run: format!("echo {id}"),
        depends_on: depends_on.iter().map(|d| d.to_string()).collect(),
        env: Default::default(),
        timeout: None,
        gate: None,
        when: None,
        network: None,
    }
}

/// A job with a gate of this message and timeout after it.
pub fn gated(id: &str, depends_on: &[&str], message: &str, timeout: Option<u64>) -> JobSpec {
    JobSpec {
        gate: Some(GateSpec {
            message: message.to_string(),
            timeout,
            ..Default::default()
        }),
        ..job(id, depends_on)
    }
}

/// A pipeline named `p`.
pub fn pipeline(jobs: Vec<JobSpec>) -> Pipeline {
    Pipeline {
        name: "p".to_string(),
        notify: Vec::new(),
        jobs,
    }
}
