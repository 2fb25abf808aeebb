//! `when`: a job that runs only for one option of a gate before it. The gate must be
//! one of the pipeline's, must come before the job (else its choice is not known when
//! the job is ready), and must offer that option.

use std::collections::{HashMap, HashSet};

use super::{ValidationError, gate_id};
use crate::domain::pipeline::{JobSpec, Pipeline};

/// Every `when` of the pipeline checked; one error per job at most.
pub(super) fn check(pipeline: &Pipeline) -> Vec<ValidationError> {
    let gates: HashMap<String, &JobSpec> = pipeline
        .jobs
        .iter()
        .filter(|job| job.active_gate().is_some())
        .map(|job| (gate_id(&job.id), job))
        .collect();
    let by_id: HashMap<&str, &JobSpec> = pipeline
        .jobs
        .iter()
        .map(|job| (job.id.as_str(), job))
        .collect();
    let mut errors = Vec::new();
    for job in &pipeline.jobs {
        let Some(when) = &job.when else { continue };
        let Some(source) = gates.get(&when.gate) else {
            let mut names: Vec<String> = gates.keys().cloned().collect();
            names.sort();
            errors.push(ValidationError::WhenUnknownGate {
                job: job.id.clone(),
                gate: when.gate.clone(),
                gates: names,
            });
            continue;
        };
        if !comes_after(job, &source.id, &by_id) {
            errors.push(ValidationError::WhenNotAfterGate {
                job: job.id.clone(),
                gate: when.gate.clone(),
                source_job: source.id.clone(),
            });
            continue;
        }
        let options = source
            .active_gate()
            .map(|gate| gate.options.clone())
            .unwrap_or_default();
        if !options.contains(&when.option) {
            errors.push(ValidationError::WhenUnknownOption {
                job: job.id.clone(),
                gate: when.gate.clone(),
                option: when.option.clone(),
                options,
            });
        }
    }
    errors
}

/// Whether `source` is among the jobs `job` depends on, directly or not. Every job that
/// depends on a gated job waits for its gate, so this is "after the gate". Unknown ids
/// and cycles are reported elsewhere; here they only end the search.
fn comes_after(job: &JobSpec, source: &str, by_id: &HashMap<&str, &JobSpec>) -> bool {
    let mut seen: HashSet<&str> = HashSet::new();
    let mut stack: Vec<&str> = job.depends_on.iter().map(String::as_str).collect();
    while let Some(id) = stack.pop() {
        if id == source {
            return true;
        }
        if !seen.insert(id) {
            continue;
        }
        if let Some(before) = by_id.get(id) {
            stack.extend(before.depends_on.iter().map(String::as_str));
        }
    }
    false
}
