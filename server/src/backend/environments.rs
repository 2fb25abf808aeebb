//! The backend's environment operations: admins define them, every deploy and save of
//! a pipeline whose gates name one is held to its rules, each change is recorded in the
//! audit trail with what changed.

use std::collections::HashMap;

use app::api::{ApiError, EnvironmentView};
use app::domain::environment::{EnvironmentRules, apply_environments, gates_with_environments};
use app::domain::{Action, Actor, Pipeline, is_safe_identifier};

use super::{StoreBackend, internal, require};
use crate::clock::now_ms;
use crate::store::{EnvironmentRecord, StoreError};

impl StoreBackend {
    pub(super) async fn environment_list(&self) -> Result<Vec<EnvironmentView>, ApiError> {
        let records = self.store.environments().await?;
        records.into_iter().map(view).collect()
    }

    pub(super) async fn environment_save(
        &self,
        actor: &Actor,
        name: &str,
        rules: EnvironmentRules,
    ) -> Result<EnvironmentView, ApiError> {
        require(actor, Action::Administer)?;
        if !is_safe_identifier(name) {
            return Err(ApiError::bad_request(format!(
                "environment name `{name}` is not valid: use 1 to 64 letters, digits, `_` or `-`"
            )));
        }
        rules
            .check()
            .map_err(|why| ApiError::bad_request(format!("environment `{name}`: {why}")))?;
        let before = match self.store.environment(name).await? {
            Some(record) => Some(parse(&record)?),
            None => None,
        };
        let text =
            serde_json::to_string(&rules).map_err(|err| internal("cannot store the rules", err))?;
        let record = self
            .store
            .save_environment(name, &text, &actor.username, now_ms())
            .await?;
        let detail = format!("`{name}`: {}", changes(before.as_ref(), &rules));
        self.auth
            .audit(
                None,
                "environment_saved",
                Some(&actor.username),
                Some(detail),
            )
            .await;
        view(record)
    }

    pub(super) async fn environment_delete(
        &self,
        actor: &Actor,
        name: &str,
    ) -> Result<(), ApiError> {
        require(actor, Action::Administer)?;
        if !self.store.delete_environment(name).await? {
            return Err(ApiError::not_found(format!(
                "there is no environment `{name}`"
            )));
        }
        self.auth
            .audit(
                None,
                "environment_deleted",
                Some(&actor.username),
                Some(format!("`{name}`")),
            )
            .await;
        Ok(())
    }

    /// `pipeline` with its gates under the rules of the environments they name (422
    /// when one asks for less, or names one that does not exist). `deployer`: who
    /// deploys it, who must be among each environment's deployers (403 otherwise).
    pub(super) async fn under_environments(
        &self,
        pipeline: Pipeline,
        deployer: Option<&Actor>,
    ) -> Result<Pipeline, ApiError> {
        let mut rules: HashMap<String, EnvironmentRules> = HashMap::new();
        for (_, name) in gates_with_environments(&pipeline) {
            if rules.contains_key(name) {
                continue;
            }
            if let Some(record) = self.store.environment(name).await? {
                rules.insert(name.to_string(), parse(&record)?);
            }
        }
        let resolved = apply_environments(&pipeline, |name| rules.get(name))?;
        if let Some(actor) = deployer {
            let refused = rules
                .iter()
                .find(|(_, rules)| !rules.may_deploy(&actor.username, &actor.groups));
            if let Some((name, _)) = refused {
                return Err(ApiError::forbidden(format!(
                    "runs whose gates use environment `{name}` may be deployed only by its \
                     deployers, and {} is not one; ask an admin",
                    actor.username
                )));
            }
        }
        Ok(resolved)
    }
}

fn parse(record: &EnvironmentRecord) -> Result<EnvironmentRules, ApiError> {
    serde_json::from_str(&record.rules)
        .map_err(|err| StoreError::Corrupt(format!("environment `{}`: {err}", record.name)).into())
}

fn view(record: EnvironmentRecord) -> Result<EnvironmentView, ApiError> {
    Ok(EnvironmentView {
        rules: parse(&record)?,
        name: record.name,
        updated_by: record.updated_by,
        updated_at_ms: record.updated_at,
    })
}

/// What changed, field by field (`approvals 1 -> 2; approvers [] -> ["ana"]`), or
/// `created` with the rules.
fn changes(before: Option<&EnvironmentRules>, after: &EnvironmentRules) -> String {
    let fields = |rules: &EnvironmentRules| match serde_json::to_value(rules) {
        Ok(serde_json::Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    };
    let after_fields = fields(after);
    let Some(before) = before else {
        return format!("created with {}", serde_json::Value::Object(after_fields));
    };
    let before_fields = fields(before);
    let mut said: Vec<String> = after_fields
        .iter()
        .filter(|(key, value)| before_fields.get(*key) != Some(*value))
        .map(|(key, value)| {
            let old = before_fields
                .get(key)
                .map_or("none".to_string(), ToString::to_string);
            format!("{key} {old} -> {value}")
        })
        .collect();
    said.extend(
        before_fields
            .keys()
            .filter(|key| !after_fields.contains_key(*key))
            .map(|key| format!("{key} removed")),
    );
    if said.is_empty() {
        "saved unchanged".to_string()
    } else {
        said.join("; ")
    }
}
