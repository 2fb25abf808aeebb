//! Gate injection: turns a pipeline into the run graph a deploy executes.
//!
//! For every job with a non-blank gate message, a gate `hitl-gate-<job>` is placed right
//! after it and every job that depended on `<job>` depends on the gate instead, so
//! `preprocess -> train` becomes `preprocess -> hitl-gate-preprocess -> train`.

use std::collections::HashMap;

use super::pipeline::Pipeline;
use super::run_graph::{NodeKind, RunGraph, RunNode};
use super::validate::{ValidationErrors, gate_id, validate};

/// Validates `pipeline` and injects its gates. The nodes come out in a topological
/// order; ties keep the order the author wrote the jobs in.
pub fn expand(pipeline: &Pipeline) -> Result<RunGraph, ValidationErrors> {
    validate(pipeline)?;

    // Where a dependency on a gated job must point now: at its gate.
    let redirect: HashMap<&str, String> = pipeline
        .jobs
        .iter()
        .filter(|job| job.active_gate().is_some())
        .map(|job| (job.id.as_str(), gate_id(&job.id)))
        .collect();

    let mut nodes = Vec::with_capacity(pipeline.jobs.len() + redirect.len());
    for job in &pipeline.jobs {
        let mut depends_on: Vec<String> = Vec::with_capacity(job.depends_on.len());
        for dependency in &job.depends_on {
            let target = redirect
                .get(dependency.as_str())
                .cloned()
                .unwrap_or_else(|| dependency.clone());
            if !depends_on.contains(&target) {
                depends_on.push(target);
            }
        }
        nodes.push(RunNode {
            id: job.id.clone(),
            depends_on,
            kind: NodeKind::Task {
                run: job.run.clone(),
                env: job.env.clone(),
                timeout: job.timeout,
                when: job.when.clone(),
                network: job.network.clone(),
            },
        });
        if let Some(gate) = job.active_gate() {
            nodes.push(RunNode {
                id: gate_id(&job.id),
                depends_on: vec![job.id.clone()],
                kind: NodeKind::Gate {
                    message: gate.message.trim().to_string(),
                    timeout_secs: gate.timeout_secs(),
                    source: job.id.clone(),
                    policy: gate.policy(),
                    form: gate.form(),
                    environment: gate.environment.clone(),
                },
            });
        }
    }

    let mut graph = RunGraph {
        notify: pipeline.notify.clone(),
        pipeline: pipeline.name.clone(),
        nodes,
    };
    if let Some(order) = graph.topological_order() {
        let mut slots: Vec<Option<RunNode>> = graph.nodes.into_iter().map(Some).collect();
        graph.nodes = order
            .into_iter()
            .filter_map(|position| slots[position].take())
            .collect();
    }
    Ok(graph)
}

#[cfg(test)]
mod tests;
