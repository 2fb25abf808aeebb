//! The Constructor's autosaved draft (kept as the JSON the browser sent).

use super::{Store, StoreError};

impl Store {
    /// Replaces the draft in `slot`.
    pub async fn save_draft(&self, slot: &str, draft: &str, now_ms: i64) -> Result<(), StoreError> {
        sqlx::query(
            "insert into drafts (slot, draft, updated_at) values ($1, $2, $3) \
             on conflict (slot) do update set draft = excluded.draft, updated_at = excluded.updated_at",
        )
        .bind(slot)
        .bind(draft)
        .bind(now_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The draft in `slot` and when it was saved, if any.
    pub async fn load_draft(&self, slot: &str) -> Result<Option<(String, i64)>, StoreError> {
        let found = sqlx::query_as("select draft, updated_at from drafts where slot = $1")
            .bind(slot)
            .fetch_optional(&self.pool)
            .await?;
        Ok(found)
    }
}
