//! The run state machine: a pure function from (run, event, now) to status changes and
//! effects.
//!
//! It does no I/O and reads no clock. The scheduler in `server` loads a [`RunState`],
//! feeds it one [`Event`], writes the returned [`Transition`]'s changes in one database
//! transaction (each one a compare-and-set on the `from` status) and then performs its
//! effects. Every rule lives here: a job is ready when all of its dependencies completed
//! (or were skipped, not all of them); a job with `when` runs only for its gate's
//! option and is skipped otherwise; a failure cancels everything downstream and nothing
//! else; a gate waits without a process and can be decided once.

use serde::{Deserialize, Serialize};

use super::gate_form::GateChoice;
use super::run_graph::{NodeKind, RunGraph, RunNode, Topology};
use super::status::{GateDecision, JobStatus, RunStatus, StatusCounts, format_duration};

/// What is known of one node of a run between events.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobState {
    pub status: JobStatus,
    /// For a waiting gate: when it times out (milliseconds since the Unix epoch).
    pub deadline_ms: Option<i64>,
    /// For a gate that needs several approvals: who approved so far, in order.
    #[serde(default)]
    pub approved_by: Vec<String>,
    /// For an approved gate with a form: the option and inputs it was approved with,
    /// which the jobs after it receive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choice: Option<GateChoice>,
}

impl JobState {
    pub const PENDING: JobState = JobState {
        status: JobStatus::Pending,
        deadline_ms: None,
        approved_by: Vec::new(),
        choice: None,
    };
}

/// How a task's process ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum JobExit {
    /// The process exited with this code.
    Code(i32),
    /// The process was killed by this signal.
    Signal(i32),
    /// The job's own `timeout` (seconds) ran out and its process group was killed.
    TimedOut { after_secs: u64 },
    /// The process was lost without an exit status, e.g. the server died under it.
    Interrupted { reason: String },
}

/// A person's answer at a gate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Approve,
    Reject,
}

/// Something that happened to a run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Event {
    /// The run was just created: its roots become ready.
    Deployed,
    /// A worker started the process of a ready task.
    JobStarted { job: String },
    /// A task's process ended.
    JobExited { job: String, exit: JobExit },
    /// A person approved or rejected a waiting gate. Who may do so is checked before
    /// (see [`crate::domain::access`]); `overriding` is an admin bypassing the gate's
    /// rules, which completes it at once and is recorded as such.
    GateDecided {
        gate: String,
        decision: Decision,
        by: String,
        comment: Option<String>,
        overriding: bool,
        /// The option and inputs of an approval, checked against the gate's form
        /// before (see [`crate::domain::gate_form`]); empty for a rejection.
        #[serde(default)]
        choice: GateChoice,
    },
    /// A waiting gate's deadline passed.
    GateTimedOut { gate: String },
    /// A person cancelled one job (and so everything downstream of it).
    JobCancelled { job: String, by: String },
    /// A person cancelled the whole run.
    RunCancelled { by: String },
}

impl Event {
    /// The person behind the event, if a person caused it.
    pub fn actor(&self) -> Option<&str> {
        match self {
            Event::GateDecided { by, .. }
            | Event::JobCancelled { by, .. }
            | Event::RunCancelled { by } => Some(by),
            _ => None,
        }
    }
}

/// What the store records about a gate along with its status change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum GateChange {
    /// The gate started waiting; it times out at `deadline_ms`.
    Activated { deadline_ms: i64 },
    /// The gate was decided (a timeout has no `by`).
    Decided {
        decision: GateDecision,
        by: Option<String>,
        comment: Option<String>,
        /// What an approval chose (empty for a rejection or a timeout).
        #[serde(default)]
        choice: GateChoice,
    },
}

/// One person's approval, recorded on its own row (a gate may need several).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    pub by: String,
    pub comment: Option<String>,
    pub overriding: bool,
    /// How many approvals the gate had before this one: the store writes the approval
    /// only if that is still so, so two approvals judged on the same count cannot both
    /// leave the gate waiting.
    pub count_before: u32,
}

/// One status write. The store applies it only if the row still has status `from`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChange {
    pub job: String,
    /// Whether the node is a gate (a waiting gate is counted apart from running tasks).
    pub is_gate: bool,
    pub from: JobStatus,
    pub to: JobStatus,
    /// Why, in words a person reads in the UI: "exit code 2", "rejected by ana".
    pub reason: Option<String>,
    pub exit_code: Option<i32>,
    pub gate: Option<GateChange>,
    /// An approval to record with this change (the gate may stay RUNNING).
    pub approval: Option<Approval>,
}

/// Work for the imperative shell once the changes are stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Effect {
    /// The task is ready: start it when a slot is free (it stays PENDING until then).
    StartJob { job: String },
    /// Kill the task's process group.
    KillJob { job: String },
    /// Wake up at `deadline_ms` to time the gate out.
    ArmGateTimer { gate: String, deadline_ms: i64 },
}

/// The result of one event: what to store, then what to do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    /// The time the event was handled; the store stamps the changes with it.
    pub at_ms: i64,
    pub changes: Vec<StatusChange>,
    pub effects: Vec<Effect>,
    /// The run's new status, when this event changed it.
    pub run_status: Option<RunStatus>,
    /// The person whose request caused the event (none for the scheduler's own).
    pub actor: Option<String>,
}

/// Why an event cannot be applied. Nothing changed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum TransitionError {
    #[error("this run has no job `{job}`")]
    UnknownJob { job: String },
    #[error("`{job}` is a gate: gates never run a process")]
    GateCannotRun { job: String },
    #[error("`{job}` is not a gate, so it cannot be approved or rejected")]
    NotAGate { job: String },
    #[error("job `{job}` cannot start: it is {status}")]
    NotPending { job: String, status: JobStatus },
    #[error("job `{job}` cannot start before `{dependency}` completes")]
    DependencyNotDone { job: String, dependency: String },
    #[error("job `{job}` is not running (it is {status})")]
    NotRunning { job: String, status: JobStatus },
    #[error("gate `{gate}` is not waiting for a decision: it is {status}")]
    GateNotWaiting { gate: String, status: JobStatus },
    #[error("{by} approved gate `{gate}` already; another person must give the next approval")]
    AlreadyApproved { gate: String, by: String },
    #[error("gate `{gate}` does not time out before {deadline_ms}")]
    DeadlineNotReached { gate: String, deadline_ms: i64 },
    #[error("`{job}` already finished ({status}); there is nothing to cancel")]
    AlreadyFinished { job: String, status: JobStatus },
    #[error("the run already finished ({status})")]
    RunFinished { status: RunStatus },
}

/// A run's graph and the status of each of its nodes.
#[derive(Clone, Debug)]
pub struct RunState {
    graph: RunGraph,
    topology: Topology,
    jobs: Vec<JobState>,
    /// The jobs' statuses counted, kept with every change: the run's status without a
    /// pass over every job at each event.
    counts: StatusCounts,
    cancelled: bool,
    /// Whether any gate has a form, so a job's start looks for choices only then.
    has_forms: bool,
}

impl RunState {
    /// A run that was just deployed: everything pending.
    pub fn new(graph: RunGraph) -> RunState {
        let jobs = vec![JobState::PENDING; graph.nodes.len()];
        RunState::restore(graph, jobs, false)
    }

    /// A run as stored: `jobs` holds one state per node of `graph`, in its order;
    /// `cancelled` says whether a person cancelled the run.
    pub fn restore(graph: RunGraph, mut jobs: Vec<JobState>, cancelled: bool) -> RunState {
        jobs.resize(graph.nodes.len(), JobState::PENDING);
        let has_forms = graph
            .nodes
            .iter()
            .any(|node| matches!(&node.kind, NodeKind::Gate { form, .. } if !form.is_empty()));
        RunState {
            topology: Topology::new(&graph),
            counts: StatusCounts::of(jobs.iter().map(|job| job.status)),
            graph,
            jobs,
            cancelled,
            has_forms,
        }
    }

    pub fn graph(&self) -> &RunGraph {
        &self.graph
    }

    /// The node `id` of the graph, found through the index (not a search).
    pub fn node(&self, id: &str) -> Option<&RunNode> {
        self.topology.position(id).map(|at| &self.graph.nodes[at])
    }

    /// The state of the node `id`, if the run has one.
    pub fn job(&self, id: &str) -> Option<&JobState> {
        self.topology.position(id).map(|at| &self.jobs[at])
    }

    /// See [`RunStatus::derive`].
    pub fn run_status(&self) -> RunStatus {
        RunStatus::of_counts(&self.counts, self.cancelled)
    }

    /// Tasks that may start now, in graph order: pending with every dependency
    /// completed. The scheduler uses this after a restart; during a run the same jobs
    /// arrive as [`Effect::StartJob`].
    pub fn ready_tasks(&self) -> Vec<&str> {
        (0..self.jobs.len())
            .filter(|&at| self.is_ready(at) && !self.graph.nodes[at].is_gate())
            .map(|at| self.graph.nodes[at].id.as_str())
            .collect()
    }

    /// The earliest deadline of a waiting gate: when the scheduler must next wake up.
    pub fn next_deadline(&self) -> Option<i64> {
        self.jobs
            .iter()
            .filter(|job| job.status == JobStatus::Running)
            .filter_map(|job| job.deadline_ms)
            .min()
    }

    /// Waiting gates whose deadline is at or before `now_ms`.
    pub fn expired_gates(&self, now_ms: i64) -> Vec<&str> {
        (0..self.jobs.len())
            .filter(|&at| {
                self.jobs[at].status == JobStatus::Running
                    && self.jobs[at].deadline_ms.is_some_and(|d| d <= now_ms)
            })
            .map(|at| self.graph.nodes[at].id.as_str())
            .collect()
    }

    /// Applies one event. On error nothing changes.
    pub fn apply(&mut self, event: Event, now_ms: i64) -> Result<Transition, TransitionError> {
        let before = self.run_status();
        let mut step = Transition {
            at_ms: now_ms,
            changes: Vec::new(),
            effects: Vec::new(),
            run_status: None,
            actor: event.actor().map(str::to_string),
        };
        match event {
            Event::Deployed => self.deployed(&mut step),
            Event::JobStarted { job } => self.started(&job, &mut step)?,
            Event::JobExited { job, exit } => self.exited(&job, exit, &mut step)?,
            Event::GateDecided {
                gate,
                decision,
                by,
                comment,
                overriding,
                choice,
            } => {
                let approval = Approval {
                    by,
                    comment,
                    overriding,
                    count_before: 0,
                };
                self.decided(&gate, decision, approval, choice, &mut step)?
            }
            Event::GateTimedOut { gate } => self.timed_out(&gate, &mut step)?,
            Event::JobCancelled { job, by } => self.cancel_job(&job, &by, &mut step)?,
            Event::RunCancelled { by } => self.cancel_run(&by, &mut step)?,
        }
        let after = self.run_status();
        if after != before {
            step.run_status = Some(after);
        }
        Ok(step)
    }

    fn position(&self, job: &str) -> Result<usize, TransitionError> {
        self.topology
            .position(job)
            .ok_or_else(|| TransitionError::UnknownJob {
                job: job.to_string(),
            })
    }

    fn is_ready(&self, at: usize) -> bool {
        self.readiness(at) == Readiness::Run
    }

    /// What a node's dependencies allow it now. It runs once each is done (completed or
    /// skipped) and its `when` holds; it is skipped when every dependency was skipped
    /// (its branch was not taken) or its gate chose another option.
    fn readiness(&self, at: usize) -> Readiness {
        if self.jobs[at].status != JobStatus::Pending {
            return Readiness::Waiting;
        }
        let dependencies = self.topology.dependencies(at);
        let statuses = || dependencies.iter().map(|&d| self.jobs[d].status);
        if !statuses().all(JobStatus::is_done) {
            return Readiness::Waiting;
        }
        if !dependencies.is_empty() && statuses().all(|s| s == JobStatus::Skipped) {
            let names: Vec<String> = dependencies
                .iter()
                .map(|&d| self.graph.nodes[d].id.clone())
                .collect();
            let verb = if names.len() == 1 { "was" } else { "were" };
            return Readiness::Skip(format!("{} {verb} skipped", join_names(&names)));
        }
        let NodeKind::Task {
            when: Some(when), ..
        } = &self.graph.nodes[at].kind
        else {
            return Readiness::Run;
        };
        let chosen = self
            .topology
            .position(&when.gate)
            .and_then(|gate| self.jobs[gate].choice.as_ref())
            .and_then(|choice| choice.option.as_deref());
        match chosen {
            Some(option) if option == when.option => Readiness::Run,
            Some(option) => Readiness::Skip(format!(
                "{} chose {option}; this job runs for {}",
                when.gate, when.option
            )),
            None => Readiness::Skip(format!(
                "{} chose no option; this job runs for {}",
                when.gate, when.option
            )),
        }
    }

    fn deployed(&mut self, step: &mut Transition) {
        let roots: Vec<usize> = (0..self.jobs.len())
            .filter(|&at| self.topology.dependencies(at).is_empty())
            .collect();
        self.release(roots, step);
    }

    /// Moves the ready ones among `candidates` on: a task is announced with
    /// [`Effect::StartJob`], a gate starts waiting at once, and a node whose branch was
    /// not taken is skipped, which may release (or skip) the nodes after it in turn.
    fn release(&mut self, candidates: Vec<usize>, step: &mut Transition) {
        let now = step.at_ms;
        let mut queue = std::collections::VecDeque::from(candidates);
        while let Some(at) = queue.pop_front() {
            match self.readiness(at) {
                Readiness::Waiting => continue,
                Readiness::Skip(reason) => {
                    self.set(at, JobStatus::Skipped, Some(reason), None, None, step);
                    queue.extend(self.topology.dependents(at));
                    continue;
                }
                Readiness::Run => {}
            }
            let id = self.graph.nodes[at].id.clone();
            match &self.graph.nodes[at].kind {
                NodeKind::Task { .. } => step.effects.push(Effect::StartJob { job: id }),
                NodeKind::Gate { timeout_secs, .. } => {
                    let timeout_ms =
                        i64::try_from(timeout_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
                    let deadline_ms = now.saturating_add(timeout_ms);
                    let activated = Some(GateChange::Activated { deadline_ms });
                    let reason = Some("waiting for approval".to_string());
                    self.set(at, JobStatus::Running, reason, None, activated, step);
                    self.jobs[at].deadline_ms = Some(deadline_ms);
                    step.effects.push(Effect::ArmGateTimer {
                        gate: id,
                        deadline_ms,
                    });
                }
            }
        }
    }

    fn started(&mut self, job: &str, step: &mut Transition) -> Result<(), TransitionError> {
        let at = self.position(job)?;
        if self.graph.nodes[at].is_gate() {
            return Err(TransitionError::GateCannotRun { job: job.into() });
        }
        if self.cancelled {
            return Err(TransitionError::RunFinished {
                status: RunStatus::Cancelled,
            });
        }
        let status = self.jobs[at].status;
        if status != JobStatus::Pending {
            return Err(TransitionError::NotPending {
                job: job.into(),
                status,
            });
        }
        if let Some(&waiting) = self
            .topology
            .dependencies(at)
            .iter()
            .find(|&&d| !self.jobs[d].status.is_done())
        {
            return Err(TransitionError::DependencyNotDone {
                job: job.into(),
                dependency: self.graph.nodes[waiting].id.clone(),
            });
        }
        self.set(at, JobStatus::Running, None, None, None, step);
        Ok(())
    }

    fn exited(
        &mut self,
        job: &str,
        exit: JobExit,
        step: &mut Transition,
    ) -> Result<(), TransitionError> {
        let at = self.position(job)?;
        if self.graph.nodes[at].is_gate() {
            return Err(TransitionError::GateCannotRun { job: job.into() });
        }
        let status = self.jobs[at].status;
        if status != JobStatus::Running {
            return Err(TransitionError::NotRunning {
                job: job.into(),
                status,
            });
        }
        let (reason, code) = match exit {
            JobExit::Code(0) => {
                self.set(at, JobStatus::Completed, None, Some(0), None, step);
                let next = self.topology.dependents(at).to_vec();
                self.release(next, step);
                return Ok(());
            }
            JobExit::Code(code) => (format!("exit code {code}"), Some(code)),
            JobExit::Signal(signal) => (format!("killed by signal {signal}"), None),
            JobExit::TimedOut { after_secs } => (
                format!("timed out after {}", format_duration(after_secs)),
                None,
            ),
            JobExit::Interrupted { reason } => (reason, None),
        };
        self.fail(at, reason, code, None, step);
        Ok(())
    }

    fn waiting_gate(&self, gate: &str) -> Result<usize, TransitionError> {
        let at = self.position(gate)?;
        if !self.graph.nodes[at].is_gate() {
            return Err(TransitionError::NotAGate { job: gate.into() });
        }
        let status = self.jobs[at].status;
        if status != JobStatus::Running {
            return Err(TransitionError::GateNotWaiting {
                gate: gate.into(),
                status,
            });
        }
        Ok(at)
    }

    fn decided(
        &mut self,
        gate: &str,
        decision: Decision,
        mut approval: Approval,
        choice: GateChoice,
        step: &mut Transition,
    ) -> Result<(), TransitionError> {
        let at = self.waiting_gate(gate)?;
        let by = approval.by.clone();
        let flag = if approval.overriding {
            " (admin override)"
        } else {
            ""
        };
        let record = |decision, choice| {
            Some(GateChange::Decided {
                decision,
                by: Some(by.clone()),
                comment: approval.comment.clone(),
                choice,
            })
        };
        if decision == Decision::Reject {
            let gate_change = record(GateDecision::Rejected, GateChoice::default());
            self.fail(
                at,
                format!("rejected by {by}{flag}"),
                None,
                gate_change,
                step,
            );
            return Ok(());
        }
        let approved_by = &self.jobs[at].approved_by;
        if approved_by.contains(&by) {
            return Err(TransitionError::AlreadyApproved {
                gate: gate.into(),
                by,
            });
        }
        approval.count_before = u32::try_from(approved_by.len()).unwrap_or(u32::MAX);
        let required = match &self.graph.nodes[at].kind {
            NodeKind::Gate { policy, .. } => policy.approvals.max(1),
            NodeKind::Task { .. } => 1,
        };
        let mut people = approved_by.clone();
        people.push(by.clone());
        let given = approval.count_before.saturating_add(1);
        if approval.overriding || given >= required {
            let reason = Some(format!("approved by {}{flag}", join_names(&people)));
            // The approval that completes the gate decides what it hands on.
            self.jobs[at].choice = Some(choice.clone());
            let gate_change = record(GateDecision::Approved, choice);
            self.set(at, JobStatus::Completed, reason, None, gate_change, step);
            self.attach(approval, step);
            self.jobs[at].approved_by = people;
            let next = self.topology.dependents(at).to_vec();
            self.release(next, step);
        } else {
            let reason = Some(format!(
                "waiting for approval: {given} of {required} approvals ({})",
                people.join(", ")
            ));
            self.set(at, JobStatus::Running, reason, None, None, step);
            self.attach(approval, step);
            self.jobs[at].approved_by = people;
        }
        Ok(())
    }

    /// Adds an approval to the change just recorded.
    fn attach(&self, approval: Approval, step: &mut Transition) {
        if let Some(change) = step.changes.last_mut() {
            change.approval = Some(approval);
        }
    }

    fn timed_out(&mut self, gate: &str, step: &mut Transition) -> Result<(), TransitionError> {
        let at = self.waiting_gate(gate)?;
        if let Some(deadline_ms) = self.jobs[at].deadline_ms
            && step.at_ms < deadline_ms
        {
            return Err(TransitionError::DeadlineNotReached {
                gate: gate.into(),
                deadline_ms,
            });
        }
        let (timeout, applied) = match &self.graph.nodes[at].kind {
            NodeKind::Gate {
                timeout_secs, form, ..
            } => (*timeout_secs, form.timeout_choice()),
            NodeKind::Task { .. } => (0, None),
        };
        let reason = format!("timed out after {}", format_duration(timeout));
        let record = |choice| {
            Some(GateChange::Decided {
                decision: GateDecision::TimedOut,
                by: None,
                comment: None,
                choice,
            })
        };
        let Some(choice) = applied else {
            self.fail(at, reason, None, record(GateChoice::default()), step);
            return Ok(());
        };
        // The author's default goes on, recorded as the timeout it is: nobody decided.
        let what = match &choice.option {
            Some(option) => format!("option {option}"),
            None => "approved".to_string(),
        };
        let reason = format!("{reason}; default applied: {what}");
        self.jobs[at].choice = Some(choice.clone());
        self.set(
            at,
            JobStatus::Completed,
            Some(reason),
            None,
            record(choice),
            step,
        );
        let next = self.topology.dependents(at).to_vec();
        self.release(next, step);
        Ok(())
    }

    fn cancel_job(
        &mut self,
        job: &str,
        by: &str,
        step: &mut Transition,
    ) -> Result<(), TransitionError> {
        let at = self.position(job)?;
        let status = self.jobs[at].status;
        if status.is_terminal() {
            return Err(TransitionError::AlreadyFinished {
                job: job.into(),
                status,
            });
        }
        self.cancel(at, format!("cancelled by {by}"), step);
        self.cancel_downstream(at, step);
        Ok(())
    }

    fn cancel_run(&mut self, by: &str, step: &mut Transition) -> Result<(), TransitionError> {
        let status = self.run_status();
        if status.is_finished() {
            return Err(TransitionError::RunFinished { status });
        }
        for at in 0..self.jobs.len() {
            if !self.jobs[at].status.is_terminal() {
                self.cancel(at, format!("run cancelled by {by}"), step);
            }
        }
        self.cancelled = true;
        Ok(())
    }

    /// Fails node `at` and cancels everything downstream of it.
    fn fail(
        &mut self,
        at: usize,
        reason: String,
        exit_code: Option<i32>,
        gate: Option<GateChange>,
        step: &mut Transition,
    ) {
        self.set(at, JobStatus::Failed, Some(reason), exit_code, gate, step);
        self.cancel_downstream(at, step);
    }

    fn cancel_downstream(&mut self, at: usize, step: &mut Transition) {
        let upstream = self.graph.nodes[at].id.clone();
        let verb = match self.jobs[at].status {
            JobStatus::Failed => "failed",
            _ => "was cancelled",
        };
        for below in self.topology.downstream(at) {
            if !self.jobs[below].status.is_terminal() {
                self.cancel(below, format!("upstream `{upstream}` {verb}"), step);
            }
        }
    }

    /// Cancels one non-final node; a running task's process is killed.
    fn cancel(&mut self, at: usize, reason: String, step: &mut Transition) {
        let was_running_task =
            self.jobs[at].status == JobStatus::Running && !self.graph.nodes[at].is_gate();
        self.set(at, JobStatus::Cancelled, Some(reason), None, None, step);
        if was_running_task {
            let job = self.graph.nodes[at].id.clone();
            step.effects.push(Effect::KillJob { job });
        }
    }

    /// Records one status change and applies it to the in-memory state.
    fn set(
        &mut self,
        at: usize,
        to: JobStatus,
        reason: Option<String>,
        exit_code: Option<i32>,
        gate: Option<GateChange>,
        step: &mut Transition,
    ) {
        let change = StatusChange {
            job: self.graph.nodes[at].id.clone(),
            is_gate: self.graph.nodes[at].is_gate(),
            from: self.jobs[at].status,
            to,
            reason,
            exit_code,
            gate,
            approval: None,
        };
        self.counts.moved(self.jobs[at].status, to);
        self.jobs[at].status = to;
        if to.is_terminal() {
            self.jobs[at].deadline_ms = None;
        }
        step.changes.push(change);
    }
}

/// Whether a pending node may go on.
#[derive(Debug, PartialEq, Eq)]
enum Readiness {
    /// A dependency has not finished yet (or the node is not pending).
    Waiting,
    Run,
    /// Its branch was not taken; why, in words.
    Skip(String),
}

/// "ana", "ana and bob", "ana, bob and cy".
fn join_names(names: &[String]) -> String {
    match names {
        [] => "nobody".to_string(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

mod choices;
#[cfg(test)]
mod tests;
