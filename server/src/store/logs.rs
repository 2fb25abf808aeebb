//! Job logs: appended in chunks while a job runs, read back from any byte offset.

use super::{LogChunk, Store, StoreError};

impl Store {
    /// Appends `text` to the log of `job` and returns the log's new size in bytes.
    pub async fn append_log(&self, run: i64, job: &str, text: &str) -> Result<u64, StoreError> {
        if text.is_empty() {
            return Ok(self.job(run, job).await?.log_bytes as u64);
        }
        let added = text.len() as i64;
        let mut tx = self.pool.begin().await?;
        // A longer log is a change the run page's poll must see: it takes a new version
        // of the run (locking the run's row first, in the same order as status writes).
        let version: i64 = sqlx::query_scalar(
            "update runs set version = version + 1 where id = $1 returning version",
        )
        .bind(run)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::UnknownRun(run))?;
        let end: i64 = sqlx::query_scalar(
            "update jobs set log_bytes = log_bytes + $3, version = $4 \
             where run_id = $1 and job_id = $2 returning log_bytes",
        )
        .bind(run)
        .bind(job)
        .bind(added)
        .bind(version)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::UnknownJob {
            run,
            job: job.to_string(),
        })?;
        sqlx::query(
            "insert into job_logs (run_id, job_id, start_offset, end_offset, data) \
             values ($1, $2, $3, $4, $5)",
        )
        .bind(run)
        .bind(job)
        .bind(end - added)
        .bind(end)
        .bind(text)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(end as u64)
    }

    /// Reads at most about `max_bytes` of the log of `job` from byte `offset` on. The
    /// text always ends on a chunk boundary (a whole line as the executor writes it),
    /// except when one chunk alone is larger than `max_bytes`.
    pub async fn read_log(
        &self,
        run: i64,
        job: &str,
        offset: u64,
        max_bytes: u64,
    ) -> Result<LogChunk, StoreError> {
        let record = self.job(run, job).await?;
        let total = record.log_bytes as u64;
        // Only the chunks that can be part of the answer: those that end after `offset`
        // and start before `offset + max_bytes` (a range on the primary key), so a page
        // of a 10 MiB log never reads the other 9.
        let from = offset.min(i64::MAX as u64) as i64;
        let until = from.saturating_add(max_bytes.min(i64::MAX as u64) as i64);
        let chunks: Vec<(i64, String)> = sqlx::query_as(
            "select start_offset, data from job_logs \
             where run_id = $1 and job_id = $2 and end_offset > $3 and start_offset < $4 \
             order by start_offset",
        )
        .bind(run)
        .bind(job)
        .bind(from)
        .bind(until)
        .fetch_all(&self.pool)
        .await?;

        let mut text = String::new();
        let mut start = offset.min(total);
        for (index, (chunk_start, data)) in chunks.iter().enumerate() {
            let skip = offset.saturating_sub(*chunk_start as u64) as usize;
            let mut from = skip.min(data.len());
            while !data.is_char_boundary(from) {
                from += 1;
            }
            if index == 0 {
                start = *chunk_start as u64 + from as u64;
            }
            let piece = &data[from..];
            if !text.is_empty() && (text.len() + piece.len()) as u64 > max_bytes {
                break;
            }
            text.push_str(piece);
        }
        let next_offset = start + text.len() as u64;
        Ok(LogChunk {
            text,
            offset: start,
            next_offset,
            total_bytes: total,
            finished: record.status.is_terminal(),
        })
    }
}
