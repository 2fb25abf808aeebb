//! Who may do what: roles, the people a gate names, and the two-person rule.
//!
//! Pure rules, like the rest of `domain`: the server asks them before it acts and answers
//! 403 with the reason they give, and the banner shows the same reason on a disabled
//! button, so a person learns why before clicking rather than after.

use serde::{Deserialize, Serialize};

/// What a person is allowed to do in general. Every signed-in account can read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads runs, logs and files. Every account has it.
    Viewer,
    /// Deploys and cancels runs, edits pipelines.
    Operator,
    /// Decides gates (within what each gate allows).
    Approver,
    /// Manages users, groups and tokens, and holds every other role.
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Viewer, Role::Operator, Role::Approver, Role::Admin];

    /// The name stored and sent over the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Approver => "approver",
            Role::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.as_str() == text)
    }

    /// Roles from a comma-separated list, e.g. `operator,approver`.
    pub fn parse_list(text: &str) -> Result<Vec<Role>, String> {
        let mut roles = Vec::new();
        for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let role = Role::parse(name).ok_or_else(|| {
                format!("`{name}` is not a role: use viewer, operator, approver or admin")
            })?;
            if !roles.contains(&role) {
                roles.push(role);
            }
        }
        roles.sort();
        Ok(roles)
    }

    /// The inverse of [`Role::parse_list`].
    pub fn join(roles: &[Role]) -> String {
        roles
            .iter()
            .map(|role| role.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// The signed-in person behind a request (through a session, a token or a trusted
/// proxy). The server builds it; a request body never names it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub username: String,
    pub display_name: String,
    pub roles: Vec<Role>,
    /// The groups the person belongs to (what a gate's `group:<name>` matches).
    pub groups: Vec<String>,
}

/// The kinds of request the roles guard.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Read,
    /// Deploy, cancel, save pipelines and drafts.
    Operate,
    Decide,
    /// Users, groups, other people's tokens, the audit of sign-ins.
    Administer,
}

impl Actor {
    /// Whether the actor holds `role`; an admin holds them all, everyone is a viewer.
    pub fn has(&self, role: Role) -> bool {
        role == Role::Viewer || self.roles.contains(&role) || self.roles.contains(&Role::Admin)
    }

    pub fn is_admin(&self) -> bool {
        self.roles.contains(&Role::Admin)
    }

    /// Whether the actor may make this kind of request, and if not, why.
    pub fn authorize(&self, action: Action) -> Result<(), String> {
        let (role, what) = match action {
            Action::Read => return Ok(()),
            Action::Operate => (
                Role::Operator,
                "deploying, cancelling and editing pipelines",
            ),
            Action::Decide => (Role::Approver, "deciding gates"),
            Action::Administer => (Role::Admin, "managing users and tokens"),
        };
        if self.has(role) {
            Ok(())
        } else {
            Err(format!(
                "{what} needs the {} role, which {} does not have; ask an admin",
                role.as_str(),
                self.username
            ))
        }
    }
}

/// The name of an entry of a gate's `approvers` that means a group.
pub const GROUP_PREFIX: &str = "group:";

/// Whether `entries` (usernames and `group:<name>`) name `username`, directly or
/// through one of its `groups`.
pub fn lists(entries: &[String], username: &str, groups: &[String]) -> bool {
    entries
        .iter()
        .any(|entry| match entry.strip_prefix(GROUP_PREFIX) {
            Some(group) => groups.iter().any(|g| g == group),
            None => entry == username,
        })
}

/// Who may decide a gate, and how many must agree. Written in the pipeline under the
/// gate (`approvers`, `approvals`, `allow_self_approval`) and frozen into the run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GatePolicy {
    /// Usernames and `group:<name>` entries; empty means anyone with the approver role.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub approvers: Vec<String>,
    /// How many different people must approve; one rejection is enough to fail it.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub approvals: u32,
    /// Whether the person who deployed the run may decide its gates.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_self_approval: bool,
    /// The environment these rules came from, if any (shown to the reviewer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
}

fn one() -> u32 {
    1
}

fn is_one(value: &u32) -> bool {
    *value == 1
}

impl Default for GatePolicy {
    fn default() -> GatePolicy {
        GatePolicy {
            approvers: Vec::new(),
            approvals: 1,
            allow_self_approval: false,
            environment: None,
        }
    }
}

impl GatePolicy {
    /// Whether `actor` is among the gate's approvers (by name or through a group).
    pub fn names(&self, actor: &Actor) -> bool {
        self.approvers.is_empty() || lists(&self.approvers, &actor.username, &actor.groups)
    }

    /// The approvers in words: "ana or group ml-leads".
    pub fn describe_approvers(&self) -> String {
        let names: Vec<String> = self
            .approvers
            .iter()
            .map(|entry| match entry.strip_prefix(GROUP_PREFIX) {
                Some(group) => format!("group {group}"),
                None => entry.clone(),
            })
            .collect();
        match names.as_slice() {
            [] => "anyone with the approver role".to_string(),
            [one] => one.clone(),
            [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
        }
    }
}

/// What is known of one gate when someone wants to decide it.
#[derive(Clone, Copy, Debug)]
pub struct GateAccess<'a> {
    pub policy: &'a GatePolicy,
    /// Who deployed the run; `None` for runs deployed before sign-in existed.
    pub deployed_by: Option<&'a str>,
    /// Who approved already (a gate that needs several approvals).
    pub approved_by: &'a [String],
}

impl GateAccess<'_> {
    /// Whether `actor` may approve (`approve`) or reject this gate, and if not, why.
    /// `overriding` is an admin bypassing the approvers and the two-person rule, which is
    /// recorded as such.
    pub fn may_decide(&self, actor: &Actor, approve: bool, overriding: bool) -> Result<(), String> {
        actor.authorize(Action::Decide)?;
        if overriding {
            return if actor.is_admin() {
                Ok(())
            } else {
                Err("only an admin may override a gate's rules".to_string())
            };
        }
        if !self.policy.names(actor) {
            return Err(format!(
                "only {} may decide this gate",
                self.policy.describe_approvers()
            ));
        }
        if !self.policy.allow_self_approval && self.deployed_by == Some(actor.username.as_str()) {
            let bypass = if actor.is_admin() {
                " (as an admin you may override, with a comment saying why)"
            } else {
                ""
            };
            return Err(format!(
                "you deployed this run; another approver must decide{bypass}"
            ));
        }
        if approve && self.approved_by.contains(&actor.username) {
            return Err(format!(
                "you approved this gate already; it needs {} more approval{} from someone else",
                self.still_needed(),
                if self.still_needed() == 1 { "" } else { "s" }
            ));
        }
        Ok(())
    }

    /// Approvals still missing before the gate completes.
    pub fn still_needed(&self) -> u32 {
        let given = u32::try_from(self.approved_by.len()).unwrap_or(u32::MAX);
        self.policy.approvals.saturating_sub(given)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(name: &str, roles: &[Role], groups: &[&str]) -> Actor {
        Actor {
            username: name.into(),
            display_name: name.into(),
            roles: roles.to_vec(),
            groups: groups.iter().map(|g| g.to_string()).collect(),
        }
    }

    fn policy(approvers: &[&str], approvals: u32, allow_self_approval: bool) -> GatePolicy {
        GatePolicy {
            approvers: approvers.iter().map(|a| a.to_string()).collect(),
            approvals,
            allow_self_approval,
            environment: None,
        }
    }

    #[test]
    fn roles_parse_from_a_list_and_name_a_typo() {
        assert_eq!(
            Role::parse_list("approver, operator,approver"),
            Ok(vec![Role::Operator, Role::Approver])
        );
        assert_eq!(
            Role::join(&[Role::Operator, Role::Approver]),
            "operator,approver"
        );
        let err = Role::parse_list("operater").expect_err("typo");
        assert!(err.contains("`operater` is not a role"), "{err}");
    }

    #[test]
    fn a_viewer_reads_but_neither_deploys_nor_decides() {
        let vic = actor("vic", &[Role::Viewer], &[]);
        assert_eq!(vic.authorize(Action::Read), Ok(()));
        let err = vic.authorize(Action::Operate).expect_err("viewer");
        assert_eq!(
            err,
            "deploying, cancelling and editing pipelines needs the operator role, which vic does not have; ask an admin"
        );
        assert!(vic.authorize(Action::Decide).is_err());
        assert!(vic.authorize(Action::Administer).is_err());
    }

    #[test]
    fn an_admin_holds_every_role() {
        let root = actor("root", &[Role::Admin], &[]);
        for action in [
            Action::Read,
            Action::Operate,
            Action::Decide,
            Action::Administer,
        ] {
            assert_eq!(root.authorize(action), Ok(()));
        }
    }

    #[test]
    fn a_gate_naming_a_group_refuses_others_with_the_reason() {
        let rules = policy(&["ana", "group:ml-leads"], 1, false);
        let access = GateAccess {
            policy: &rules,
            deployed_by: Some("olaf"),
            approved_by: &[],
        };
        let bob = actor("bob", &[Role::Approver], &["data"]);
        assert_eq!(
            access.may_decide(&bob, true, false),
            Err("only ana or group ml-leads may decide this gate".to_string())
        );
        let lead = actor("lea", &[Role::Approver], &["ml-leads"]);
        assert_eq!(access.may_decide(&lead, true, false), Ok(()));
        let ana = actor("ana", &[Role::Approver], &[]);
        assert_eq!(access.may_decide(&ana, false, false), Ok(()));
    }

    #[test]
    fn the_deployer_cannot_decide_unless_the_gate_allows_it() {
        let strict = policy(&[], 1, false);
        let ana = actor("ana", &[Role::Operator, Role::Approver], &[]);
        let access = GateAccess {
            policy: &strict,
            deployed_by: Some("ana"),
            approved_by: &[],
        };
        assert_eq!(
            access.may_decide(&ana, true, false),
            Err("you deployed this run; another approver must decide".to_string())
        );
        assert!(access.may_decide(&ana, false, false).is_err(), "nor reject");
        let relaxed = policy(&[], 1, true);
        let access = GateAccess {
            policy: &relaxed,
            ..access
        };
        assert_eq!(access.may_decide(&ana, true, false), Ok(()));
    }

    #[test]
    fn an_admin_deployer_is_refused_too_but_may_override() {
        let strict = policy(&["group:ml-leads"], 2, false);
        let root = actor("root", &[Role::Admin], &[]);
        let access = GateAccess {
            policy: &strict,
            deployed_by: Some("root"),
            approved_by: &[],
        };
        let err = access
            .may_decide(&root, true, false)
            .expect_err("not named");
        assert_eq!(err, "only group ml-leads may decide this gate");
        let named = policy(&[], 1, false);
        let access = GateAccess {
            policy: &named,
            ..access
        };
        let err = access.may_decide(&root, true, false).expect_err("self");
        assert!(err.contains("as an admin you may override"), "{err}");
        assert_eq!(access.may_decide(&root, true, true), Ok(()));
        let ana = actor("ana", &[Role::Approver], &[]);
        assert_eq!(
            access.may_decide(&ana, true, true),
            Err("only an admin may override a gate's rules".to_string())
        );
    }

    #[test]
    fn one_person_approves_once_and_the_rest_is_counted() {
        let two = policy(&[], 2, false);
        let approved = vec!["ana".to_string()];
        let access = GateAccess {
            policy: &two,
            deployed_by: None,
            approved_by: &approved,
        };
        assert_eq!(access.still_needed(), 1);
        let ana = actor("ana", &[Role::Approver], &[]);
        assert_eq!(
            access.may_decide(&ana, true, false),
            Err(
                "you approved this gate already; it needs 1 more approval from someone else"
                    .to_string()
            )
        );
        assert_eq!(
            access.may_decide(&ana, false, false),
            Ok(()),
            "may still reject"
        );
        let bob = actor("bob", &[Role::Approver], &[]);
        assert_eq!(access.may_decide(&bob, true, false), Ok(()));
    }

    #[test]
    fn policy_defaults_are_left_out_of_the_yaml() {
        let json = serde_json::to_string(&GatePolicy::default()).expect("json");
        assert_eq!(json, "{}");
        let read: GatePolicy = serde_json::from_str("{}").expect("defaults");
        assert_eq!(read, GatePolicy::default());
    }
}
