//! The draft: nodes, edges and positions, and its conversion to and from a pipeline.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use super::gate_form_draft::DraftGateForm;
use crate::domain::network::Network;
use crate::domain::{DEFAULT_GATE_TIMEOUT_SECS, GateSpec, JobSpec, Pipeline, When};

/// Positions snap to this many pixels.
pub const GRID: f64 = 20.0;

/// A pipeline on the canvas.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Draft {
    pub name: String,
    /// The pipeline's webhook endpoints, one per line as typed.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub notify: String,
    pub nodes: Vec<DraftNode>,
    pub edges: Vec<DraftEdge>,
    /// The next node key to hand out; keys never repeat within a draft.
    pub next_key: u32,
}

/// One job on the canvas, every field as typed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DraftNode {
    /// Stable while the job id is being edited.
    pub key: u32,
    pub id: String,
    pub run: String,
    /// `KEY=value` lines.
    pub env: String,
    /// Seconds, or blank for none.
    pub timeout: String,
    /// Blank means no gate.
    pub gate_message: String,
    /// Seconds; starts at 172800 (48 hours).
    pub gate_timeout: String,
    /// Who may decide the gate: comma-separated usernames and `group:<name>`; blank for
    /// anyone with the approver role.
    #[serde(default)]
    pub gate_approvers: String,
    /// How many people must approve; blank for 1.
    #[serde(default)]
    pub gate_approvals: String,
    /// Whether whoever deployed the run may decide its gate.
    #[serde(default)]
    pub gate_allow_self: bool,
    /// The gate's options, inputs and timeout policy, as typed.
    #[serde(default, skip_serializing_if = "DraftGateForm::is_empty")]
    pub gate_form: DraftGateForm,
    /// `when`: the gate before the job whose choice it runs for; blank for always.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub when_gate: String,
    /// `when`: the option of that gate the job runs for.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub when_option: String,
    /// The job's `network` rule, kept as loaded (the canvas has no editor for it yet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<Network>,
    /// The gate's `environment`, kept as loaded (no editor for it yet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gate_environment: Option<String>,
    pub x: f64,
    pub y: f64,
}

/// `to` depends on `from` (keys of nodes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DraftEdge {
    pub from: u32,
    pub to: u32,
}

/// A field that cannot even be read (before the pipeline rules apply).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldProblem {
    pub node: u32,
    /// `timeout`, `gate_timeout`, `gate_approvals`, `gate_form`, `when` or `env`.
    pub field: &'static str,
    pub message: String,
}

/// Node positions by job id, as saved with a pipeline.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Layout {
    pub positions: BTreeMap<String, (f64, f64)>,
}

impl Default for Draft {
    fn default() -> Draft {
        Draft {
            name: "new-pipeline".to_string(),
            notify: String::new(),
            nodes: Vec::new(),
            edges: Vec::new(),
            next_key: 1,
        }
    }
}

impl DraftNode {
    /// A fresh node with the sidebar's defaults.
    pub fn new(key: u32, id: String, x: f64, y: f64) -> DraftNode {
        DraftNode {
            key,
            id,
            run: String::new(),
            env: String::new(),
            timeout: String::new(),
            gate_message: String::new(),
            gate_timeout: DEFAULT_GATE_TIMEOUT_SECS.to_string(),
            gate_approvers: String::new(),
            gate_approvals: String::new(),
            gate_allow_self: false,
            gate_form: DraftGateForm::default(),
            when_gate: String::new(),
            when_option: String::new(),
            network: None,
            gate_environment: None,
            x,
            y,
        }
    }

    /// Whether any of the gate's rules differ from the defaults.
    fn has_gate_rules(&self) -> bool {
        !self.gate_approvers.trim().is_empty()
            || !self.gate_approvals.trim().is_empty()
            || self.gate_allow_self
            || !self.gate_form.is_empty()
    }

    pub fn has_gate(&self) -> bool {
        !self.gate_message.trim().is_empty()
    }
}

/// Rounds a coordinate to the grid.
pub fn snap(value: f64) -> f64 {
    (value / GRID).round() * GRID
}

fn seconds(
    node: u32,
    field: &'static str,
    text: &str,
    problems: &mut Vec<FieldProblem>,
) -> Option<u64> {
    whole_number(node, field, text, "seconds", problems)
}

/// A blank field is `None`; anything else must be a whole number of `unit`.
fn whole_number<T: std::str::FromStr>(
    node: u32,
    field: &'static str,
    text: &str,
    unit: &str,
    problems: &mut Vec<FieldProblem>,
) -> Option<T> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    match text.parse::<T>() {
        Ok(value) => Some(value),
        Err(_) => {
            problems.push(FieldProblem {
                node,
                field,
                message: format!("`{text}` is not a whole number of {unit}"),
            });
            None
        }
    }
}

impl Draft {
    pub fn node(&self, key: u32) -> Option<&DraftNode> {
        self.nodes.iter().find(|node| node.key == key)
    }

    pub fn node_mut(&mut self, key: u32) -> Option<&mut DraftNode> {
        self.nodes.iter_mut().find(|node| node.key == key)
    }

    /// The node whose job id is `id` (the first, if ids repeat).
    pub fn key_of(&self, id: &str) -> Option<u32> {
        self.nodes
            .iter()
            .find(|node| node.id == id)
            .map(|node| node.key)
    }

    /// The pipeline this draft describes, and the fields that could not be read.
    pub fn to_pipeline(&self) -> (Pipeline, Vec<FieldProblem>) {
        let mut problems = Vec::new();
        let ids: HashMap<u32, &str> = self
            .nodes
            .iter()
            .map(|node| (node.key, node.id.as_str()))
            .collect();
        let jobs = self
            .nodes
            .iter()
            .map(|node| {
                let depends_on = self
                    .edges
                    .iter()
                    .filter(|edge| edge.to == node.key)
                    .filter_map(|edge| ids.get(&edge.from).map(|id| id.to_string()))
                    .collect();
                let mut env = BTreeMap::new();
                for (number, line) in node.env.lines().enumerate() {
                    let line = line.trim();
                    if line.is_empty() {
                        continue;
                    }
                    match line.split_once('=') {
                        Some((name, value)) => {
                            env.insert(name.trim().to_string(), value.to_string());
                        }
                        None => problems.push(FieldProblem {
                            node: node.key,
                            field: "env",
                            message: format!("line {} is not `NAME=value`: `{line}`", number + 1),
                        }),
                    }
                }
                let timeout = seconds(node.key, "timeout", &node.timeout, &mut problems);
                let gate_timeout =
                    seconds(node.key, "gate_timeout", &node.gate_timeout, &mut problems);
                // A blank message is "no gate", unless the timeout was changed from its
                // default: then the pipeline rules say why that is a mistake.
                let approvals = whole_number(
                    node.key,
                    "gate_approvals",
                    &node.gate_approvals,
                    "people",
                    &mut problems,
                );
                let (form, unreadable) = node.gate_form.read();
                problems.extend(unreadable.into_iter().map(|message| FieldProblem {
                    node: node.key,
                    field: "gate_form",
                    message,
                }));
                let changed = gate_timeout.is_some_and(|t| t != DEFAULT_GATE_TIMEOUT_SECS)
                    || node.has_gate_rules();
                let gate = (node.has_gate() || changed).then(|| GateSpec {
                    message: node.gate_message.clone(),
                    timeout: gate_timeout,
                    approvers: node
                        .gate_approvers
                        .split(',')
                        .map(str::trim)
                        .filter(|a| !a.is_empty())
                        .map(str::to_string)
                        .collect(),
                    approvals,
                    allow_self_approval: node.gate_allow_self,
                    options: form.options,
                    inputs: form.inputs,
                    on_timeout: form.on_timeout,
                    environment: node.gate_environment.clone(),
                });
                let when = match (node.when_gate.trim(), node.when_option.trim()) {
                    ("", "") => None,
                    (gate, option) if !gate.is_empty() && !option.is_empty() => Some(When {
                        gate: gate.to_string(),
                        option: option.to_string(),
                    }),
                    _ => {
                        problems.push(FieldProblem {
                            node: node.key,
                            field: "when",
                            message:
                                "give both the gate and its option the job runs for, or neither"
                                    .to_string(),
                        });
                        None
                    }
                };
                JobSpec {
                    id: node.id.clone(),
                    run: node.run.clone(),
                    depends_on,
                    env,
                    timeout,
                    gate,
                    when,
                    network: node.network.clone(),
                }
            })
            .collect();
        (
            Pipeline {
                name: self.name.clone(),
                notify: self
                    .notify
                    .lines()
                    .map(str::trim)
                    .filter(|url| !url.is_empty())
                    .map(str::to_string)
                    .collect(),
                jobs,
            },
            problems,
        )
    }

    /// The draft of a saved pipeline: positions from `layout`, or a tidy column-per-layer
    /// arrangement for jobs it does not place.
    pub fn from_pipeline(pipeline: &Pipeline, layout: &Layout) -> Draft {
        let mut draft = Draft {
            name: pipeline.name.clone(),
            notify: pipeline.notify.join("\n"),
            ..Draft::default()
        };
        let depth = layers(pipeline);
        let mut per_layer: HashMap<usize, usize> = HashMap::new();
        for (position, job) in pipeline.jobs.iter().enumerate() {
            let key = draft.next_key;
            draft.next_key += 1;
            let (x, y) = layout.positions.get(&job.id).copied().unwrap_or_else(|| {
                let layer = depth[position];
                let row = per_layer.entry(layer).or_default();
                *row += 1;
                (
                    GRID * 2.0 + layer as f64 * 240.0,
                    GRID * 2.0 + (*row - 1) as f64 * 100.0,
                )
            });
            draft.nodes.push(DraftNode {
                key,
                id: job.id.clone(),
                run: job.run.clone(),
                env: job
                    .env
                    .iter()
                    .map(|(name, value)| format!("{name}={value}"))
                    .collect::<Vec<_>>()
                    .join("\n"),
                timeout: job.timeout.map(|t| t.to_string()).unwrap_or_default(),
                gate_message: job
                    .gate
                    .as_ref()
                    .map(|g| g.message.clone())
                    .unwrap_or_default(),
                gate_timeout: job
                    .gate
                    .as_ref()
                    .map_or(DEFAULT_GATE_TIMEOUT_SECS, GateSpec::timeout_secs)
                    .to_string(),
                gate_approvers: job
                    .gate
                    .as_ref()
                    .map(|g| g.approvers.join(", "))
                    .unwrap_or_default(),
                gate_approvals: job
                    .gate
                    .as_ref()
                    .and_then(|g| g.approvals)
                    .map(|n| n.to_string())
                    .unwrap_or_default(),
                gate_allow_self: job.gate.as_ref().is_some_and(|g| g.allow_self_approval),
                gate_form: job
                    .gate
                    .as_ref()
                    .map(|gate| DraftGateForm::of(&gate.form()))
                    .unwrap_or_default(),
                when_gate: job
                    .when
                    .as_ref()
                    .map(|w| w.gate.clone())
                    .unwrap_or_default(),
                when_option: job
                    .when
                    .as_ref()
                    .map(|w| w.option.clone())
                    .unwrap_or_default(),
                network: job.network.clone(),
                gate_environment: job.gate.as_ref().and_then(|g| g.environment.clone()),
                x,
                y,
            });
        }
        for job in &pipeline.jobs {
            let Some(to) = draft.key_of(&job.id) else {
                continue;
            };
            for dependency in &job.depends_on {
                if let Some(from) = draft.key_of(dependency)
                    && !draft.edges.contains(&DraftEdge { from, to })
                {
                    draft.edges.push(DraftEdge { from, to });
                }
            }
        }
        draft
    }

    /// Where each job is, to save beside the pipeline.
    pub fn layout(&self) -> Layout {
        Layout {
            positions: self
                .nodes
                .iter()
                .map(|node| (node.id.clone(), (node.x, node.y)))
                .collect(),
        }
    }
}

/// Each job's layer: 0 for jobs without known dependencies, else one more than the
/// deepest dependency (cycles are cut where they close).
fn layers(pipeline: &Pipeline) -> Vec<usize> {
    let index: HashMap<&str, usize> = pipeline
        .jobs
        .iter()
        .enumerate()
        .map(|(i, job)| (job.id.as_str(), i))
        .collect();
    let mut depth: Vec<Option<usize>> = vec![None; pipeline.jobs.len()];
    fn visit(
        at: usize,
        pipeline: &Pipeline,
        index: &HashMap<&str, usize>,
        depth: &mut Vec<Option<usize>>,
        on_path: &mut Vec<bool>,
    ) -> usize {
        if let Some(known) = depth[at] {
            return known;
        }
        on_path[at] = true;
        let mut deepest = 0;
        for dependency in &pipeline.jobs[at].depends_on {
            if let Some(&from) = index.get(dependency.as_str())
                && !on_path[from]
            {
                deepest = deepest.max(visit(from, pipeline, index, depth, on_path) + 1);
            }
        }
        on_path[at] = false;
        depth[at] = Some(deepest);
        deepest
    }
    let mut on_path = vec![false; pipeline.jobs.len()];
    (0..pipeline.jobs.len())
        .map(|at| visit(at, pipeline, &index, &mut depth, &mut on_path))
        .collect()
}

#[cfg(test)]
mod tests;
