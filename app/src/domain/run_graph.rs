//! The run graph: what a run actually executes, with the HITL gates injected.
//!
//! It is stored with each run as a snapshot, so editing the pipeline later never changes
//! a run that already exists. Nodes are kept in a topological order.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};

use serde::{Deserialize, Serialize};

use super::access::GatePolicy;
use super::gate_form::GateForm;
use super::network::Network;
use super::pipeline::When;

/// The expanded graph of one run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunGraph {
    /// The pipeline this run was deployed from.
    pub pipeline: String,
    /// The pipeline's own webhook endpoints (`notify:`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notify: Vec<String>,
    /// Every job and gate, each after all of its dependencies.
    pub nodes: Vec<RunNode>,
}

/// A job or a gate of a run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunNode {
    pub id: String,
    /// Ids of the nodes that must complete first (no duplicates).
    pub depends_on: Vec<String>,
    pub kind: NodeKind,
}

/// What a node does when it becomes ready.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum NodeKind {
    /// Runs `sh -c <run>`.
    Task {
        run: String,
        #[serde(default)]
        env: BTreeMap<String, String>,
        /// Seconds before the process is killed.
        timeout: Option<u64>,
        /// Runs only for this choice of a gate before it, else is skipped.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        when: Option<When>,
        /// The TCP ports it may connect to; the server's default when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        network: Option<Network>,
    },
    /// Waits for a person; never starts a process.
    Gate {
        message: String,
        timeout_secs: u64,
        /// The job whose output the reviewer looks at.
        source: String,
        /// Who may decide and how many must approve (absent in runs deployed before
        /// gates had rules: anyone with the approver role, once).
        #[serde(default)]
        policy: GatePolicy,
        /// The options and inputs the approver fills in (absent: a plain yes/no gate).
        #[serde(default, skip_serializing_if = "GateForm::is_empty")]
        form: GateForm,
        /// The environment whose rules were resolved into `policy` at deploy.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        environment: Option<String>,
    },
}

impl RunNode {
    pub fn is_gate(&self) -> bool {
        matches!(self.kind, NodeKind::Gate { .. })
    }
}

/// The edges of a run graph by position, computed once for the state machine.
#[derive(Clone, Debug)]
pub struct Topology {
    index: HashMap<String, usize>,
    dependencies: Vec<Vec<usize>>,
    dependents: Vec<Vec<usize>>,
}

impl Topology {
    /// Unknown dependency ids (impossible in a graph from `expand`) are ignored.
    pub fn new(graph: &RunGraph) -> Topology {
        let index: HashMap<String, usize> = graph
            .nodes
            .iter()
            .enumerate()
            .map(|(position, node)| (node.id.clone(), position))
            .collect();
        let mut dependencies = vec![Vec::new(); graph.nodes.len()];
        let mut dependents = vec![Vec::new(); graph.nodes.len()];
        for (position, node) in graph.nodes.iter().enumerate() {
            for dependency in &node.depends_on {
                if let Some(&from) = index.get(dependency) {
                    dependencies[position].push(from);
                    dependents[from].push(position);
                }
            }
        }
        Topology {
            index,
            dependencies,
            dependents,
        }
    }

    pub fn position(&self, id: &str) -> Option<usize> {
        self.index.get(id).copied()
    }

    pub fn dependencies(&self, position: usize) -> &[usize] {
        &self.dependencies[position]
    }

    pub fn dependents(&self, position: usize) -> &[usize] {
        &self.dependents[position]
    }

    /// Every node reachable from `position` along dependency edges, each once, in
    /// graph order.
    pub fn downstream(&self, position: usize) -> Vec<usize> {
        let mut seen = vec![false; self.dependents.len()];
        let mut stack = vec![position];
        while let Some(at) = stack.pop() {
            for &next in &self.dependents[at] {
                if !seen[next] {
                    seen[next] = true;
                    stack.push(next);
                }
            }
        }
        (0..seen.len()).filter(|&at| seen[at]).collect()
    }
}

impl RunGraph {
    /// Positions of the nodes with every node after its dependencies, ties broken by
    /// position so the order follows the author's; `None` when the graph has a cycle
    /// (never the case for a graph made by `expand`).
    pub fn topological_order(&self) -> Option<Vec<usize>> {
        let topology = Topology::new(self);
        let mut waiting_on: Vec<usize> = (0..self.nodes.len())
            .map(|at| topology.dependencies(at).len())
            .collect();
        let mut ready: BinaryHeap<Reverse<usize>> = (0..self.nodes.len())
            .filter(|&at| waiting_on[at] == 0)
            .map(Reverse)
            .collect();
        let mut order = Vec::with_capacity(self.nodes.len());
        while let Some(Reverse(at)) = ready.pop() {
            order.push(at);
            for &next in topology.dependents(at) {
                waiting_on[next] -= 1;
                if waiting_on[next] == 0 {
                    ready.push(Reverse(next));
                }
            }
        }
        (order.len() == self.nodes.len()).then_some(order)
    }

    pub fn node(&self, id: &str) -> Option<&RunNode> {
        self.nodes.iter().find(|node| node.id == id)
    }

    /// The pipeline this graph was expanded from (gates folded back into their source
    /// jobs), so a run can be deployed again exactly as it was.
    pub fn to_pipeline(&self) -> crate::domain::Pipeline {
        use crate::domain::{GateSpec, JobSpec};
        let source_of = |id: &str| match self.node(id).map(|node| &node.kind) {
            Some(NodeKind::Gate { source, .. }) => source.clone(),
            _ => id.to_string(),
        };
        let jobs = self
            .nodes
            .iter()
            .filter_map(|node| match &node.kind {
                NodeKind::Gate { .. } => None,
                NodeKind::Task {
                    run,
                    env,
                    timeout,
                    when,
                    network,
                } => Some(JobSpec {
                    id: node.id.clone(),
                    run: run.clone(),
                    depends_on: node.depends_on.iter().map(|d| source_of(d)).collect(),
                    env: env.clone(),
                    timeout: *timeout,
                    gate: self.gates().find_map(|gate| match &gate.kind {
                        NodeKind::Gate {
                            message,
                            timeout_secs,
                            source,
                            policy,
                            form,
                            environment,
                        } if *source == node.id => Some(GateSpec {
                            message: message.clone(),
                            timeout: Some(*timeout_secs),
                            approvers: policy.approvers.clone(),
                            approvals: (policy.approvals != 1).then_some(policy.approvals),
                            allow_self_approval: policy.allow_self_approval,
                            options: form.options.clone(),
                            inputs: form.inputs.clone(),
                            on_timeout: form.on_timeout.clone(),
                            environment: environment.clone(),
                        }),
                        _ => None,
                    }),
                    when: when.clone(),
                    network: network.clone(),
                }),
            })
            .collect();
        crate::domain::Pipeline {
            name: self.pipeline.clone(),
            notify: self.notify.clone(),
            jobs,
        }
    }

    /// The injected gates, in graph order.
    pub fn gates(&self) -> impl Iterator<Item = &RunNode> {
        self.nodes.iter().filter(|node| node.is_gate())
    }
}
