//! Environments: approval rules that admins set outside any pipeline.
//!
//! A gate that names one (`gate: {message: ..., environment: production}`) takes its
//! rules from it: who may approve, how many approvals, whether the deployer may decide,
//! what a timeout may do, the longest and shortest timeout. The pipeline may only make
//! them stricter (fewer approvers, more approvals); anything looser is refused at save
//! and deploy with the field named. The rules in force are resolved at deploy into the
//! gate's policy, which the run keeps, so a run is judged by the rules it started with.

use serde::{Deserialize, Serialize};

use super::gate_form::OnTimeout;
use super::pipeline::{GateSpec, Pipeline};
use super::validate::{ValidationError, ValidationErrors};

/// What an environment requires of the gates that name it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentRules {
    /// Usernames and `group:<name>` entries who may approve; empty: anyone with the
    /// approver role.
    #[serde(default)]
    pub approvers: Vec<String>,
    /// How many different people must approve (at least 1).
    #[serde(default = "one")]
    pub approvals: u32,
    /// Whether whoever deployed the run may decide its gates (a pipeline cannot turn
    /// this on).
    #[serde(default)]
    pub deployer_may_decide: bool,
    /// Whether a gate may go on by itself at its timeout (`on_timeout: approve` or an
    /// option); when not, a gate that times out fails.
    #[serde(default)]
    pub timeout_may_approve: bool,
    /// The shortest and longest gate timeout, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_timeout_secs: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_timeout_secs: Option<u64>,
    /// Who may deploy runs whose gates name it: usernames and `group:<name>` entries;
    /// empty: anyone with the operator role.
    #[serde(default)]
    pub deployers: Vec<String>,
}

fn one() -> u32 {
    1
}

/// An environment as admins define it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Environment {
    pub name: String,
    pub rules: EnvironmentRules,
}

impl EnvironmentRules {
    /// Whether the rules hold together; what to change otherwise.
    pub fn check(&self) -> Result<(), String> {
        if self.approvals == 0 {
            return Err("`approvals` must be at least 1".into());
        }
        if let (Some(min), Some(max)) = (self.min_timeout_secs, self.max_timeout_secs)
            && min > max
        {
            return Err(format!(
                "`min_timeout_secs` ({min}) is more than `max_timeout_secs` ({max})"
            ));
        }
        let named = self.approvers.len();
        let needed = usize::try_from(self.approvals).unwrap_or(usize::MAX);
        if named > 0
            && needed > named
            && !self
                .approvers
                .iter()
                .any(|a| a.starts_with(super::access::GROUP_PREFIX))
        {
            return Err(format!(
                "`approvals` is {needed} but only {named} people are approvers: no gate could pass"
            ));
        }
        Ok(())
    }

    /// [`EnvironmentRules::check`] of the environment `name`, the name included.
    pub fn check_as(&self, name: &str) -> Result<(), String> {
        if !super::is_safe_identifier(name) {
            return Err(format!(
                "environment name `{name}` is not valid: use 1 to 64 letters, digits, `_` or `-`"
            ));
        }
        self.check()
            .map_err(|why| format!("environment `{name}`: {why}"))
    }

    /// What changed from `before`, field by field (`approvals 1 -> 2`), or `created
    /// with` the rules: the audit trail's words for a save.
    pub fn changes_from(&self, before: Option<&EnvironmentRules>) -> String {
        let fields = |rules: &EnvironmentRules| match serde_json::to_value(rules) {
            Ok(serde_json::Value::Object(map)) => map,
            _ => serde_json::Map::new(),
        };
        let after = fields(self);
        let Some(before) = before else {
            return format!("created with {}", serde_json::Value::Object(after));
        };
        let before = fields(before);
        let mut said: Vec<String> = after
            .iter()
            .filter(|(key, value)| before.get(*key) != Some(*value))
            .map(|(key, value)| {
                let old = before
                    .get(key)
                    .map_or("none".to_string(), ToString::to_string);
                format!("{key} {old} -> {value}")
            })
            .collect();
        said.extend(
            before
                .keys()
                .filter(|key| !after.contains_key(*key))
                .map(|key| format!("{key} removed")),
        );
        if said.is_empty() {
            "saved unchanged".to_string()
        } else {
            said.join("; ")
        }
    }

    /// Whether `username` (in `groups`) may deploy runs that use the environment.
    pub fn may_deploy(&self, username: &str, groups: &[String]) -> bool {
        self.deployers.is_empty() || super::access::lists(&self.deployers, username, groups)
    }
}

/// The gates of `pipeline` that name an environment, with the environment's name.
pub fn gates_with_environments(pipeline: &Pipeline) -> impl Iterator<Item = (&str, &str)> {
    pipeline.jobs.iter().filter_map(|job| {
        let gate = job.active_gate()?;
        Some((job.id.as_str(), gate.environment.as_deref()?))
    })
}

/// `pipeline` with each gate that names an environment under that environment's
/// rules (`lookup` finds them by name): the rules in force written into the gate, or
/// every gate that asks for less than its environment, or names an unknown one.
pub fn apply_environments<'e>(
    pipeline: &Pipeline,
    lookup: impl Fn(&str) -> Option<&'e EnvironmentRules>,
) -> Result<Pipeline, ValidationErrors> {
    let mut resolved = pipeline.clone();
    let mut errors = Vec::new();
    for job in &mut resolved.jobs {
        let Some(gate) = job.gate.as_mut().filter(|gate| gate.is_active()) else {
            continue;
        };
        let Some(name) = gate.environment.clone() else {
            continue;
        };
        match lookup(&name) {
            None => errors.push(ValidationError::UnknownEnvironment {
                job: job.id.clone(),
                environment: name,
            }),
            Some(rules) => {
                let problems = stricter_only(gate, rules);
                if problems.is_empty() {
                    enforce(gate, rules);
                }
                errors.extend(problems.into_iter().map(|(field, problem)| {
                    ValidationError::LooserThanEnvironment {
                        job: job.id.clone(),
                        environment: name.clone(),
                        field: field.to_string(),
                        problem,
                    }
                }));
            }
        }
    }
    ValidationErrors::result(errors).map(|()| resolved)
}

/// What the gate asks for that is looser than `rules`: the field and why.
fn stricter_only(gate: &GateSpec, rules: &EnvironmentRules) -> Vec<(&'static str, String)> {
    let mut problems = Vec::new();
    if !rules.approvers.is_empty() {
        for approver in gate
            .approvers
            .iter()
            .filter(|a| !rules.approvers.contains(a))
        {
            problems.push((
                "gate_approvers",
                format!("names `{approver}` in `approvers`, who is not among its approvers"),
            ));
        }
    }
    if let Some(approvals) = gate.approvals.filter(|a| *a < rules.approvals) {
        problems.push((
            "gate_approvals",
            format!(
                "has `approvals: {approvals}`; it needs at least {}",
                rules.approvals
            ),
        ));
    }
    if gate.allow_self_approval && !rules.deployer_may_decide {
        problems.push((
            "gate_allow_self_approval",
            "sets `allow_self_approval: true`; it does not let whoever deployed a run decide"
                .into(),
        ));
    }
    if !matches!(gate.on_timeout, OnTimeout::Fail) && !rules.timeout_may_approve {
        problems.push((
            "gate_form",
            "sets `on_timeout`, which goes on by itself; it requires a person to decide".into(),
        ));
    }
    // A timeout left out takes the environment's bounds (see `enforce`).
    let Some(timeout) = gate.timeout else {
        return problems;
    };
    if let Some(min) = rules.min_timeout_secs.filter(|min| timeout < *min) {
        problems.push((
            "gate_timeout",
            format!("has `timeout: {timeout}`; it needs at least {min} seconds"),
        ));
    }
    if let Some(max) = rules.max_timeout_secs.filter(|max| timeout > *max) {
        problems.push((
            "gate_timeout",
            format!("has `timeout: {timeout}`; it allows at most {max} seconds"),
        ));
    }
    problems
}

/// Writes the rules in force into the gate: the pipeline's approvers when it names
/// some (all among the environment's), else the environment's; the larger count of
/// approvals; the environment's word on the deployer; a timeout left out is the
/// default (48 hours) brought within the environment's bounds.
fn enforce(gate: &mut GateSpec, rules: &EnvironmentRules) {
    if gate.approvers.is_empty() {
        gate.approvers = rules.approvers.clone();
    }
    gate.approvals = Some(gate.approvals.unwrap_or(1).max(rules.approvals));
    gate.allow_self_approval = rules.deployer_may_decide;
    if gate.timeout.is_none() {
        let default = gate.timeout_secs();
        let bounded = default
            .max(rules.min_timeout_secs.unwrap_or(0))
            .min(rules.max_timeout_secs.unwrap_or(u64::MAX));
        gate.timeout = (bounded != default).then_some(bounded);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn production() -> EnvironmentRules {
        EnvironmentRules {
            approvers: vec!["ana".into(), "bob".into(), "group:sre".into()],
            approvals: 2,
            max_timeout_secs: Some(86_400),
            ..EnvironmentRules::default()
        }
    }

    fn with_gate(gate: &str) -> Pipeline {
        Pipeline::parse(&format!(
            "name: release\njobs:\n  - {{id: build, run: 'true', gate: {gate}}}\n  - {{id: ship, run: 'true', depends_on: [build]}}\n"
        ))
        .expect("parse")
    }

    fn resolve(gate: &str) -> Result<Pipeline, ValidationErrors> {
        let rules = production();
        apply_environments(&with_gate(gate), |name| {
            (name == "production").then_some(&rules)
        })
    }

    #[test]
    fn a_gate_takes_the_rules_of_its_environment() {
        let resolved = resolve("{message: ship?, environment: production}").expect("resolved");
        let gate = resolved.jobs[0].gate.as_ref().expect("gate");
        assert_eq!(gate.approvers, ["ana", "bob", "group:sre"]);
        assert_eq!(gate.approvals, Some(2));
        assert!(!gate.allow_self_approval);
        assert_eq!(
            gate.timeout,
            Some(86_400),
            "48 hours brought down to the longest allowed"
        );
        // Stricter is fine: fewer approvers, more approvals.
        let stricter = resolve(
            "{message: ship?, environment: production, approvers: [ana, bob], approvals: 3}",
        )
        .expect("stricter");
        let gate = stricter.jobs[0].gate.as_ref().expect("gate");
        assert_eq!((gate.approvers.len(), gate.approvals), (2, Some(3)));
        // A gate without an environment is left as written.
        let plain = resolve("{message: ship?, allow_self_approval: true}").expect("plain");
        assert!(
            plain.jobs[0]
                .gate
                .as_ref()
                .is_some_and(|g| g.allow_self_approval)
        );
    }

    #[test]
    fn anything_looser_is_refused_with_its_field() {
        let refused = resolve(
            "{message: ship?, environment: production, approvers: [carl], approvals: 1, allow_self_approval: true, timeout: 172800, on_timeout: approve}",
        )
        .expect_err("looser");
        let fields: Vec<Option<&str>> = refused.0.iter().map(ValidationError::field).collect();
        assert_eq!(
            fields,
            [
                Some("gate_approvers"),
                Some("gate_approvals"),
                Some("gate_allow_self_approval"),
                Some("gate_form"),
                Some("gate_timeout")
            ]
        );
        let said = refused.to_string();
        assert!(
            said.contains("job `build`'s gate names `carl` in `approvers`, who is not among its approvers: environment `production` allows only stricter rules"),
            "{said}"
        );
        let unknown = resolve("{message: ship?, environment: staging}").expect_err("unknown");
        assert!(
            unknown
                .to_string()
                .contains("environment `staging`, which does not exist"),
            "{unknown}"
        );
    }

    #[test]
    fn rules_that_cannot_hold_are_refused() {
        let mut rules = production();
        assert_eq!(rules.check(), Ok(()));
        rules.approvals = 0;
        assert!(rules.check().is_err());
        rules.approvals = 3;
        rules.approvers = vec!["ana".into(), "bob".into()];
        assert!(rules.check().unwrap_err().contains("no gate could pass"));
        assert!(production().may_deploy("anyone", &[]));
        assert!(production().check_as("bad name").is_err());
        let mut stricter = production();
        stricter.approvals = 3;
        stricter.max_timeout_secs = None;
        assert_eq!(
            stricter.changes_from(Some(&production())),
            "approvals 2 -> 3; max_timeout_secs removed"
        );
        assert!(
            production()
                .changes_from(None)
                .starts_with("created with {")
        );
        let only_sre = EnvironmentRules {
            deployers: vec!["group:sre".into()],
            ..production()
        };
        assert!(only_sre.may_deploy("zoe", &["sre".into()]));
        assert!(!only_sre.may_deploy("zoe", &["ml".into()]));
    }
}
