//! The only place that writes job and run statuses.
//!
//! Every change of a [`Transition`] is a compare-and-set on its `from` status, all in
//! one transaction: if any row moved on meanwhile (another decision, another replica),
//! nothing is written and the caller gets [`StoreError::Conflict`]. This is what makes
//! "exactly one decision counts" hold for any number of simultaneous requests.
//!
//! The run's row counts its jobs by status. Each change moves one job from one count to
//! another in the same transaction (the compare-and-set proves the `from`), so the
//! run's status is derived from the counts as they are in the database, by the same
//! rule as the state machine's ([`RunStatus::of_counts`]), never from a snapshot that
//! may be stale by now, and without reading the run's jobs.
//!
//! The scheduler writes many transitions at once ([`Store::apply_all`]). The number of
//! statements, not their size, is what costs (each is a round trip to the database), so
//! a batch is written as: one update of each run's row, one update per group of changes
//! that write the same values (every start of a turn is one group, every clean exit
//! another), one insert of the history rows, and one insert per gate whose log grows.
//!
//! A gate's log lines ("waiting for approval", "approved by ana") are written in the
//! same transaction as the change they tell of: a decision is never stored without its
//! line, and no second transaction queues on the run's row behind it while the jobs it
//! released start.

use std::collections::{BTreeMap, HashSet};

use app::domain::{
    Approval, GateChange, JobStatus, RunStatus, StatusChange, StatusCounts, Transition,
};

use super::{Store, StoreError};

pub(super) type Tx = sqlx::Transaction<'static, sqlx::Any>;

/// Rows per multi-row statement: preparing one costs more than linearly in its number of
/// values (see `JOBS_PER_INSERT` in `runs.rs`), so they are kept short.
const ROWS_PER_STATEMENT: usize = 50;

/// A line for a gate's log, written with the transition that it tells of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GateLogLine {
    pub run: i64,
    pub job: String,
    pub text: String,
}

/// What transitions write besides their status changes, in the same transaction:
/// gate log lines and webhook notices (`crate::engine::records` makes both).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Records {
    pub log_lines: Vec<GateLogLine>,
    pub notices: Vec<super::Notice>,
}

impl Records {
    /// Adds another transition's records (a scheduler turn writes several).
    pub fn extend(&mut self, other: Records) {
        self.log_lines.extend(other.log_lines);
        self.notices.extend(other.notices);
    }
}

/// What a batch does to one run's row: its counts move by `delta`, its waiting gates by
/// `gates`; the last change's actor and time go to the run's own history row.
#[derive(Default)]
struct RunMove {
    delta: StatusCounts,
    gates: i64,
    cancelled: bool,
    actor: Option<String>,
    at: i64,
}

/// What one run's row became in this transaction.
struct RunWrite {
    version: i64,
    /// The run's status before the transaction.
    was: String,
    counts: StatusCounts,
    /// A person cancelled the run in this batch.
    cancelled: bool,
    /// Who made the last change (for the run's own history row).
    actor: Option<String>,
    at: i64,
}

impl Store {
    /// Writes `transition` for `run` atomically, with one history event per change, and
    /// brings the run's status up to date. Returns the run's version after the write.
    pub async fn apply(&self, run: i64, transition: &Transition) -> Result<i64, StoreError> {
        let versions = self
            .apply_all(&[(run, transition)], &Records::default())
            .await?;
        Ok(versions.first().copied().unwrap_or_default())
    }

    /// Writes several transitions (of one run or several) in one transaction, in order,
    /// with the gate log lines and notices they add: all of them or, on the first
    /// conflict or error, none. Returns each transition's run version after the write,
    /// in the order of `batch`.
    pub async fn apply_all(
        &self,
        batch: &[(i64, &Transition)],
        records: &Records,
    ) -> Result<Vec<i64>, StoreError> {
        // One chunk per log: the lines of a gate that changed twice in the batch, joined.
        let mut logs: BTreeMap<(i64, &str), String> = BTreeMap::new();
        for line in &records.log_lines {
            logs.entry((line.run, &line.job))
                .or_default()
                .push_str(&line.text);
        }
        let mut tx = self.pool.begin().await?;
        let runs = move_counts(&mut tx, batch, &self.origin).await?;
        self.write_changes(&mut tx, batch, &runs, &logs).await?;
        insert_history(&mut tx, batch).await?;
        for ((run, job), text) in &logs {
            append_gate_log(&mut tx, *run, job, text).await?;
        }
        for (&run, write) in &runs {
            settle_run_status(&mut tx, run, write).await?;
        }
        if !records.notices.is_empty() {
            let at = batch.last().map_or(0, |(_, t)| t.at_ms);
            super::notifications::queue(&mut tx, &records.notices, &self.endpoints, at).await?;
        }
        tx.commit().await?;
        Ok(batch
            .iter()
            .map(|(run, _)| runs.get(run).map_or(0, |write| write.version))
            .collect())
    }

    /// Every change as a compare-and-set, changes that write the same values together.
    /// The first change of a gate whose log grows adds the size of its new lines to the
    /// gate's `log_bytes` (every gate line tells of a change of its gate in the same
    /// batch: [`crate::engine::records`] makes them from the changes).
    async fn write_changes(
        &self,
        tx: &mut Tx,
        batch: &[(i64, &Transition)],
        runs: &BTreeMap<i64, RunWrite>,
        logs: &BTreeMap<(i64, &str), String>,
    ) -> Result<(), StoreError> {
        let mut groups: Vec<(JobWrite, Vec<&str>)> = Vec::new();
        let mut gathered: HashSet<(i64, &str)> = HashSet::new();
        let mut counted: HashSet<(i64, &str)> = HashSet::new();
        for (run, transition) in batch {
            let version = runs.get(run).map_or(0, |write| write.version);
            for change in &transition.changes {
                let mut write = JobWrite::of(*run, change, transition.at_ms, version, &self.origin);
                if let Some(text) = logs.get(&(*run, change.job.as_str()))
                    && counted.insert((*run, change.job.as_str()))
                {
                    write.log_added = text.len() as i64;
                }
                // A job changed twice in one batch: its first change goes first.
                let seen = !gathered.insert((*run, change.job.as_str()));
                if seen || change.approval.is_some() {
                    flush(tx, &mut groups).await?;
                    gathered.clear();
                    gathered.insert((*run, change.job.as_str()));
                }
                match groups.iter_mut().find(|(w, _)| *w == write) {
                    Some((_, jobs)) => jobs.push(&change.job),
                    None => groups.push((write, vec![&change.job])),
                }
                if let Some(approval) = &change.approval {
                    flush(tx, &mut groups).await?;
                    gathered.clear();
                    record_approval(tx, *run, &change.job, approval, transition.at_ms).await?;
                }
            }
        }
        flush(tx, &mut groups).await
    }
}

/// Moves each run's counts and takes a new version, locking the run rows in id order
/// (so two batches never wait on each other in a circle). Returns what each became.
/// Naming this server in `changed_by` is what announces the change to the other
/// replicas (on Postgres a trigger sends the NOTIFY, migration 0008).
async fn move_counts(
    tx: &mut Tx,
    batch: &[(i64, &Transition)],
    origin: &str,
) -> Result<BTreeMap<i64, RunWrite>, StoreError> {
    let mut moves: BTreeMap<i64, RunMove> = BTreeMap::new();
    for (run, transition) in batch {
        let entry = moves.entry(*run).or_default();
        for change in &transition.changes {
            entry.delta.moved(change.from, change.to);
            if change.is_gate {
                entry.gates += i64::from(change.to == JobStatus::Running)
                    - i64::from(change.from == JobStatus::Running);
            }
        }
        entry.cancelled |= transition.run_status == Some(RunStatus::Cancelled);
        entry.actor.clone_from(&transition.actor);
        entry.at = transition.at_ms;
    }
    let mut runs = BTreeMap::new();
    for (run, moved) in moves {
        let RunMove {
            delta,
            gates,
            cancelled,
            actor,
            at,
        } = moved;
        let row: Option<CountedRun> = sqlx::query_as(
            "update runs set version = version + 1, \
                 pending_jobs = pending_jobs + $2, running_jobs = running_jobs + $3, \
                 completed_jobs = completed_jobs + $4, failed_jobs = failed_jobs + $5, \
                 cancelled_jobs = cancelled_jobs + $6, waiting_gates = waiting_gates + $7, \
                 changed_by = $8, skipped_jobs = skipped_jobs + $9 \
             where id = $1 \
             returning status, version, pending_jobs, running_jobs, completed_jobs, \
                 failed_jobs, cancelled_jobs, skipped_jobs",
        )
        .bind(run)
        .bind(delta.pending)
        .bind(delta.running)
        .bind(delta.completed)
        .bind(delta.failed)
        .bind(delta.cancelled)
        .bind(gates)
        .bind(origin)
        .bind(delta.skipped)
        .fetch_optional(&mut **tx)
        .await?;
        let row = row.ok_or(StoreError::UnknownRun(run))?;
        let was = row.status;
        let version = row.version;
        let counts = StatusCounts {
            pending: row.pending_jobs,
            running: row.running_jobs,
            completed: row.completed_jobs,
            failed: row.failed_jobs,
            cancelled: row.cancelled_jobs,
            skipped: row.skipped_jobs,
        };
        let write = RunWrite {
            cancelled: cancelled || was == RunStatus::Cancelled.as_str(),
            version,
            was,
            counts,
            actor,
            at,
        };
        runs.insert(run, write);
    }
    Ok(runs)
}

/// The run's status from its counts as they now are; a change is written with its own
/// history row. A finished run cannot change: that is [`StoreError::RunFinished`].
async fn settle_run_status(tx: &mut Tx, run: i64, write: &RunWrite) -> Result<(), StoreError> {
    let status = RunStatus::of_counts(&write.counts, write.cancelled);
    if status.as_str() == write.was {
        return Ok(());
    }
    if write.was != RunStatus::Running.as_str() {
        return Err(StoreError::RunFinished(run));
    }
    sqlx::query("update runs set status = $2, finished_at = $3 where id = $1")
        .bind(run)
        .bind(status.as_str())
        .bind(status.is_finished().then_some(write.at))
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "insert into events (run_id, kind, from_status, to_status, at, actor) \
         values ($1, 'run_status', $2, $3, $4, $5)",
    )
    .bind(run)
    .bind(&write.was)
    .bind(status.as_str())
    .bind(write.at)
    .bind(write.actor.as_deref())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The values one change writes to its job's row, apart from which job: changes with
/// equal values are written by one statement.
#[derive(Debug, PartialEq, Eq)]
struct JobWrite {
    run: i64,
    from: JobStatus,
    to: JobStatus,
    reason: Option<String>,
    exit_code: Option<i64>,
    started_at: Option<i64>,
    finished_at: Option<i64>,
    activated_at: Option<i64>,
    deadline_at: Option<i64>,
    decision: Option<&'static str>,
    decided_by: Option<String>,
    decided_at: Option<i64>,
    comment: Option<String>,
    /// What an approval chose: the option, and the inputs as a JSON object.
    decision_option: Option<String>,
    decision_inputs: Option<String>,
    owner: Option<String>,
    version: i64,
    /// Bytes this write adds to the job's log (a gate's own lines).
    log_added: i64,
    /// For an approval: how many approvals the gate had before it. The write then
    /// counts it, only if the gate still has that many (see [`record_approval`]).
    approvals_before: Option<i64>,
}

impl JobWrite {
    fn of(run: i64, change: &StatusChange, at: i64, version: i64, origin: &str) -> JobWrite {
        let (activated_at, deadline_at) = match &change.gate {
            Some(GateChange::Activated { deadline_ms }) => (Some(at), Some(*deadline_ms)),
            _ => (None, None),
        };
        let (decision, decided_by, decided_at, comment) = match &change.gate {
            Some(GateChange::Decided {
                decision,
                by,
                comment,
                ..
            }) => (
                Some(decision.as_str()),
                by.clone(),
                Some(at),
                comment.clone(),
            ),
            _ => (None, None, None, None),
        };
        let (decision_option, decision_inputs) = match &change.gate {
            Some(GateChange::Decided { choice, .. }) => (
                choice.option.clone(),
                (!choice.inputs.is_empty())
                    .then(|| serde_json::to_string(&choice.inputs).ok())
                    .flatten(),
            ),
            _ => (None, None),
        };
        // A task that starts is owned by this server from the same write, so the lease
        // logic never sees it RUNNING without an owner.
        let starts_a_task =
            change.from == JobStatus::Pending && change.to == JobStatus::Running && !change.is_gate;
        let owner = (starts_a_task && !origin.is_empty()).then(|| origin.to_string());
        JobWrite {
            run,
            from: change.from,
            to: change.to,
            reason: change.reason.clone(),
            exit_code: change.exit_code.map(i64::from),
            started_at: (change.to == JobStatus::Running).then_some(at),
            finished_at: change.to.is_terminal().then_some(at),
            activated_at,
            deadline_at,
            decision,
            decided_by,
            decided_at,
            comment,
            decision_option,
            decision_inputs,
            owner,
            version,
            log_added: 0,
            approvals_before: change
                .approval
                .as_ref()
                .map(|approval| i64::from(approval.count_before)),
        }
    }
}

/// Writes the gathered groups, each as compare-and-sets on its jobs' statuses.
async fn flush(tx: &mut Tx, groups: &mut Vec<(JobWrite, Vec<&str>)>) -> Result<(), StoreError> {
    for (write, jobs) in groups.drain(..) {
        for jobs in jobs.chunks(ROWS_PER_STATEMENT) {
            let first = 21;
            let marks: Vec<String> = (0..jobs.len()).map(|n| format!("${}", first + n)).collect();
            let statement = format!(
                "update jobs set status = $3, reason = $4, \
                     exit_code = coalesce($5, exit_code), \
                     started_at = coalesce(started_at, $6), \
                     finished_at = coalesce(finished_at, $7), \
                     activated_at = coalesce($8, activated_at), \
                     deadline_at = coalesce($9, deadline_at), \
                     decision = coalesce($10, decision), \
                     decided_by = coalesce($11, decided_by), \
                     decided_at = coalesce($12, decided_at), \
                     comment = coalesce($13, comment), \
                     owner = coalesce($14, owner), \
                     version = $15, \
                     decision_option = coalesce($16, decision_option), \
                     decision_inputs = coalesce($17, decision_inputs), \
                     log_bytes = log_bytes + $18, \
                     approval_count = approval_count + $19 \
                 where run_id = $1 and status = $2 and ($20 is null or approval_count = $20) \
                     and job_id in ({})",
                marks.join(", ")
            );
            let mut update = sqlx::query(sqlx::AssertSqlSafe(statement))
                .bind(write.run)
                .bind(write.from.as_str())
                .bind(write.to.as_str())
                .bind(write.reason.clone())
                .bind(write.exit_code)
                .bind(write.started_at)
                .bind(write.finished_at)
                .bind(write.activated_at)
                .bind(write.deadline_at)
                .bind(write.decision)
                .bind(write.decided_by.clone())
                .bind(write.decided_at)
                .bind(write.comment.clone())
                .bind(write.owner.clone())
                .bind(write.version)
                .bind(write.decision_option.clone())
                .bind(write.decision_inputs.clone())
                .bind(write.log_added)
                .bind(i64::from(write.approvals_before.is_some()))
                .bind(write.approvals_before);
            for job in jobs {
                update = update.bind(job.to_string());
            }
            let updated = update.execute(&mut **tx).await?;
            if updated.rows_affected() != jobs.len() as u64 {
                return Err(which_moved(tx, write.run, write.from, jobs).await);
            }
        }
    }
    Ok(())
}

/// After a compare-and-set wrote fewer rows than asked: the first job that moved on, or
/// does not exist.
async fn which_moved(tx: &mut Tx, run: i64, expected: JobStatus, jobs: &[&str]) -> StoreError {
    for job in jobs {
        let status: Result<Option<String>, sqlx::Error> =
            sqlx::query_scalar("select status from jobs where run_id = $1 and job_id = $2")
                .bind(run)
                .bind(job.to_string())
                .fetch_optional(&mut **tx)
                .await;
        match status {
            Err(error) => return error.into(),
            Ok(None) => {
                return StoreError::UnknownJob {
                    run,
                    job: job.to_string(),
                };
            }
            Ok(Some(status)) if status != expected.as_str() => break,
            Ok(Some(_)) => {}
        }
    }
    StoreError::Conflict {
        run,
        job: jobs.first().map_or_else(String::new, |job| job.to_string()),
        expected,
    }
}

/// One `status` history row per change, in multi-row inserts.
async fn insert_history(tx: &mut Tx, batch: &[(i64, &Transition)]) -> Result<(), StoreError> {
    const COLUMNS: usize = 7;
    let rows: Vec<(i64, &Transition, &StatusChange)> = batch
        .iter()
        .flat_map(|(run, transition)| {
            transition
                .changes
                .iter()
                .map(move |change| (*run, *transition, change))
        })
        .collect();
    for rows in rows.chunks(ROWS_PER_STATEMENT) {
        let values: Vec<String> = (0..rows.len())
            .map(|row| {
                let first = row * COLUMNS;
                let marks: Vec<String> = (1..=COLUMNS).map(|n| format!("${}", first + n)).collect();
                format!("({}, 'status')", marks.join(", "))
            })
            .collect();
        let statement = format!(
            "insert into events (run_id, job_id, from_status, to_status, detail, at, actor, kind) \
             values {}",
            values.join(", ")
        );
        let mut insert = sqlx::query(sqlx::AssertSqlSafe(statement));
        for (run, transition, change) in rows {
            insert = insert
                .bind(*run)
                .bind(change.job.clone())
                .bind(change.from.as_str())
                .bind(change.to.as_str())
                .bind(change.reason.clone())
                .bind(transition.at_ms)
                .bind(transition.actor.clone());
        }
        insert.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Records one person's approval of a gate. The gate's row counted it already, if the
/// gate still had the number of approvals the state machine counted (else the write
/// was a [`StoreError::Conflict`]: the caller looks again and the state machine judges
/// the approval on the new count). The primary key (run, gate, person) keeps one person
/// from being counted twice.
async fn record_approval(
    tx: &mut Tx,
    run: i64,
    gate: &str,
    approval: &Approval,
    at: i64,
) -> Result<(), StoreError> {
    let inserted = sqlx::query(
        "insert into gate_approvals (run_id, job_id, username, at, comment, overriding) \
         values ($1, $2, $3, $4, $5, $6) on conflict do nothing",
    )
    .bind(run)
    .bind(gate)
    .bind(&approval.by)
    .bind(at)
    .bind(approval.comment.as_deref())
    .bind(i64::from(approval.overriding))
    .execute(&mut **tx)
    .await?;
    if inserted.rows_affected() != 1 {
        return Err(StoreError::Conflict {
            run,
            job: gate.to_string(),
            expected: JobStatus::Running,
        });
    }
    Ok(())
}

/// Adds `text` to a gate's log as one chunk, at the end the gate's status write has
/// just moved `log_bytes` to.
async fn append_gate_log(tx: &mut Tx, run: i64, job: &str, text: &str) -> Result<(), StoreError> {
    let added = text.len() as i64;
    let inserted = sqlx::query(
        "insert into job_logs (run_id, job_id, start_offset, end_offset, data) \
         select run_id, job_id, log_bytes - $3, log_bytes, $4 from jobs \
         where run_id = $1 and job_id = $2",
    )
    .bind(run)
    .bind(job)
    .bind(added)
    .bind(text)
    .execute(&mut **tx)
    .await?;
    if inserted.rows_affected() != 1 {
        return Err(StoreError::UnknownJob {
            run,
            job: job.to_string(),
        });
    }
    Ok(())
}

/// A run row's status and counters after the flush's update.
#[derive(sqlx::FromRow)]
struct CountedRun {
    status: String,
    version: i64,
    pending_jobs: i64,
    running_jobs: i64,
    completed_jobs: i64,
    failed_jobs: i64,
    cancelled_jobs: i64,
    skipped_jobs: i64,
}
