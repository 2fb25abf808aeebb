//! What the gates before a job decided, for that job's environment: every approved gate
//! upstream of it (not only the nearest), so a job two steps after a gate still knows
//! which option was chosen.

use std::collections::BTreeMap;

use super::RunState;
use crate::domain::gate_form::{choice_env_name, value_text};
use crate::domain::run_graph::NodeKind;

impl RunState {
    /// The variables the approved gates upstream of `job` hand to it:
    /// `TOLLGATE_GATE_<SOURCE>_OPTION` and `TOLLGATE_GATE_<SOURCE>_<INPUT>`. Empty when
    /// no gate before it has a form; a run without forms costs nothing here (this is on
    /// every job's start).
    pub fn choice_env(&self, job: &str) -> BTreeMap<String, String> {
        let mut env = BTreeMap::new();
        let Some(start) = self.topology.position(job).filter(|_| self.has_forms) else {
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
                    env.insert(choice_env_name(source, Some(name)), value_text(value));
                }
            }
        }
        env
    }
}
