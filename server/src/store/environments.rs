//! Environments: approval rules admins set outside any pipeline, by name.

use sqlx::FromRow;

use super::{Store, StoreError};

/// An environment as stored; `rules` is JSON.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct EnvironmentRecord {
    pub name: String,
    pub rules: String,
    pub updated_by: Option<String>,
    pub updated_at: i64,
}

impl Store {
    /// Every environment, by name.
    pub async fn environments(&self) -> Result<Vec<EnvironmentRecord>, StoreError> {
        Ok(sqlx::query_as::<_, EnvironmentRecord>(
            "select name, rules, updated_by, updated_at from environments order by name",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn environment(&self, name: &str) -> Result<Option<EnvironmentRecord>, StoreError> {
        Ok(sqlx::query_as::<_, EnvironmentRecord>(
            "select name, rules, updated_by, updated_at from environments where name = $1",
        )
        .bind(name)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Creates or replaces an environment.
    pub async fn save_environment(
        &self,
        name: &str,
        rules: &str,
        updated_by: &str,
        now_ms: i64,
    ) -> Result<EnvironmentRecord, StoreError> {
        Ok(sqlx::query_as::<_, EnvironmentRecord>(
            "insert into environments (name, rules, updated_by, updated_at) values ($1, $2, $3, $4) \
             on conflict (name) do update set rules = excluded.rules, \
                 updated_by = excluded.updated_by, updated_at = excluded.updated_at \
             returning name, rules, updated_by, updated_at",
        )
        .bind(name)
        .bind(rules)
        .bind(updated_by)
        .bind(now_ms)
        .fetch_one(&self.pool)
        .await?)
    }

    /// Deletes an environment; `false` if there was none of that name.
    pub async fn delete_environment(&self, name: &str) -> Result<bool, StoreError> {
        let deleted = sqlx::query("delete from environments where name = $1")
            .bind(name)
            .execute(&self.pool)
            .await?;
        Ok(deleted.rows_affected() == 1)
    }
}
