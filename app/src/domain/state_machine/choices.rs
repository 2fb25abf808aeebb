//! What the gates before a job decided, for that job's environment: every approved gate
//! upstream of it (not only the nearest), so a job two steps after a gate still knows
//! which option was chosen.

use std::collections::BTreeMap;

use super::RunState;
use crate::domain::gate_form::{choice_env_name, choice_env_value};
use crate::domain::run_graph::NodeKind;

impl RunState {
    /// The variables the approved gates upstream of `job` hand to it:
    /// `TOLLGATE_GATE_<SOURCE>_OPTION` and `TOLLGATE_GATE_<SOURCE>_<INPUT>`. Empty when
    /// no gate before it has a form (the common case costs one look at the graph).
    pub fn choice_env(&self, job: &str) -> BTreeMap<String, String> {
        let mut env = BTreeMap::new();
        let has_forms = self
            .graph
            .nodes
            .iter()
            .any(|node| matches!(&node.kind, NodeKind::Gate { form, .. } if !form.is_empty()));
        let Some(start) = self.topology.position(job).filter(|_| has_forms) else {
            return env;
        };
        let mut seen = vec![false; self.jobs.len()];
        let mut stack = vec![start];
        while let Some(at) = stack.pop() {
            for &before in self.topology.dependencies(at) {
                if std::mem::replace(&mut seen[before], true) {
                    continue;
                }
                stack.push(before);
                let (NodeKind::Gate { source, .. }, Some(choice)) =
                    (&self.graph.nodes[before].kind, &self.jobs[before].choice)
                else {
                    continue;
                };
                if let Some(option) = &choice.option {
                    env.insert(choice_env_name(source, None), option.clone());
                }
                for (name, value) in &choice.inputs {
                    env.insert(choice_env_name(source, Some(name)), choice_env_value(value));
                }
            }
        }
        env
    }
}
