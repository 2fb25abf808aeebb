//! The backend's environment operations: admins define them, every deploy and save of
//! a pipeline whose gates name one is held to its rules, each change is recorded in the
//! audit trail with what changed.

use std::collections::HashMap;

use app::api::{ApiError, EnvironmentView};
use app::domain::environment::{EnvironmentRules, apply_environments, gates_with_environments};
use app::domain::{Action, Actor, Pipeline};

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
        rules.check_as(name).map_err(ApiError::bad_request)?;
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
        let detail = format!("`{name}`: {}", rules.changes_from(before.as_ref()));
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
        pipeline: &Pipeline,
        deployer: Option<&Actor>,
    ) -> Result<Pipeline, ApiError> {
        let mut rules: HashMap<String, EnvironmentRules> = HashMap::new();
        for (_, name) in gates_with_environments(pipeline) {
            if rules.contains_key(name) {
                continue;
            }
            if let Some(record) = self.store.environment(name).await? {
                rules.insert(name.to_string(), parse(&record)?);
            }
        }
        let resolved = apply_environments(pipeline, |name| rules.get(name))?;
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
