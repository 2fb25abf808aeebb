//! The scheduler: one task that starts ready jobs when a slot is free, hears their
//! exits, and times out gates at their deadline.
//!
//! It is woken, never polled: a deploy or a cancel calls [`Scheduler::wake`] or
//! [`Scheduler::perform`], a decision is handed over whole ([`Scheduler::decide`]); an
//! exiting job reports through the same channel; a timer is set to the earliest gate
//! deadline. Gates never take a slot: only tasks count against `max_jobs`.
//!
//! It keeps the state of each run it works on in memory ([`ActiveRuns`]) and applies its
//! own events (starts, exits, gate timeouts) to it; everything one turn produces is
//! written in one transaction (see `turn.rs`). A run is read from the store again only
//! when someone else changed it (a decision, a cancel, another replica), when a write
//! met a conflict, or at recovery, so the cost of an event does not grow with the size
//! of its run.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::time::Duration;

use app::domain::{Effect, Event, JobExit, RunState, Transition};
use tokio::sync::{mpsc, oneshot, watch};

use crate::clock::now_ms;
use crate::engine::{Applied, EventError};
use crate::metrics::Metrics;
use crate::store::Store;
use crate::workspace::Workspaces;

mod active_runs;
mod decisions;
mod heartbeat;
mod outage;
mod recovery;
mod shutdown;
mod turn;

use active_runs::ActiveRuns;
pub use decisions::Decided;
use outage::Outage;
use recovery::recover;
use shutdown::Draining;
use turn::Turn;

/// Commands handled in one turn at most before its writes go to the store, so a flood
/// of exits is written in a few transactions, not one each, and never waits long.
const COMMANDS_PER_TURN: usize = 256;

/// The reason given to jobs that were running when the server stopped without them.
pub const RESTART_REASON: &str = "interrupted by server restart";

/// How the scheduler works on this server.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Jobs running at once on this server.
    pub max_jobs: usize,
    /// How long a server may go without a heartbeat before its running jobs are failed
    /// by another server (Postgres, several replicas).
    pub lease: Duration,
    /// This server's name in the `replicas` table, unique per process start.
    pub replica: String,
    /// How often the running runs are checked anyway, in case a wake-up was lost (only
    /// those whose version moved are read again).
    pub rescan: Duration,
}

impl Settings {
    /// A replica id unique to this process start.
    pub fn new_replica_id() -> String {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        format!("{:x}-{:x}", std::process::id(), nanos & 0xffff_ffff_ffff)
    }
}

/// A handle to the scheduler task; cheap to clone.
#[derive(Clone, Debug)]
pub struct Scheduler {
    commands: mpsc::UnboundedSender<Command>,
}

#[derive(Debug)]
enum Command {
    /// Something about this run changed in the store: look at it again.
    Wake(i64),
    /// A run was just stored, every job pending: its state as deployed.
    Deployed { run: i64, state: Box<RunState> },
    /// Someone else wrote this run, and this is exactly the run as stored at `version`.
    Changed {
        run: i64,
        state: Box<RunState>,
        version: i64,
    },
    /// A person decided a gate: apply it in this turn and answer once it is written.
    Decide {
        run: i64,
        read: Box<(RunState, i64)>,
        event: Event,
        reply: decisions::Reply,
    },
    /// A task's process ended.
    Exited {
        run: i64,
        job: String,
        exit: JobExit,
    },
    /// Kill a running task's process group.
    Kill { run: i64, job: String },
    /// No heartbeat could be stored for a whole lease: stop every job of this server.
    Fence { silent: Duration },
    /// Start no more jobs; let running ones finish within `grace`, then kill them.
    Shutdown {
        grace: Duration,
        done: oneshot::Sender<()>,
    },
}

type JobKey = (i64, String);

impl Scheduler {
    /// Recovers what a previous server left behind, then starts the scheduler task.
    pub async fn start(
        store: Store,
        workspaces: Workspaces,
        settings: Settings,
        metrics: Metrics,
    ) -> Result<Scheduler, EventError> {
        let (commands, receiver) = mpsc::unbounded_channel();
        let (fence, fenced) = watch::channel(false);
        let scheduler = Scheduler { commands };
        let runs = recover(&store, &workspaces, &settings).await?;
        store.register_replica(&settings.replica, now_ms()).await?;
        tracing::info!(replica = %settings.replica, "scheduler started");
        let worker = Worker {
            store,
            workspaces,
            max_jobs: settings.max_jobs.max(1),
            replica: settings.replica,
            lease: settings.lease,
            rescan: settings.rescan,
            commands: scheduler.commands.clone(),
            runs: ActiveRuns::default(),
            turn: Turn::default(),
            queue: VecDeque::new(),
            queued: HashSet::new(),
            running: HashMap::new(),
            deadlines: BTreeSet::new(),
            draining: None,
            stop_reasons: HashMap::new(),
            outage: None,
            fenced,
            metrics,
        };
        heartbeat::spawn(
            worker.store.clone(),
            worker.replica.clone(),
            worker.lease,
            scheduler.commands.clone(),
            fence,
        );
        tokio::spawn(worker.run(receiver));
        for run in runs {
            scheduler.wake(run);
        }
        Ok(scheduler)
    }

    /// Asks the scheduler to look at `run` again (start what is ready, arm timers).
    pub fn wake(&self, run: i64) {
        let _ = self.commands.send(Command::Wake(run));
    }

    /// Hands over a run just stored with every job pending: the scheduler starts its
    /// roots without reading it back.
    pub fn deployed(&self, run: i64, state: RunState) {
        let state = Box::new(state);
        let _ = self.commands.send(Command::Deployed { run, state });
    }

    /// Stops the scheduler for a server shutdown: no new job starts, running jobs get
    /// `grace` to finish, then they are killed and fail with a reason that says so.
    /// Waiting gates are state, not processes: they stay as they are.
    pub async fn shutdown(&self, grace: Duration) {
        let (done, finished) = oneshot::channel();
        if self
            .commands
            .send(Command::Shutdown { grace, done })
            .is_ok()
        {
            let _ = finished.await;
        }
    }

    /// Carries out the effects of an event stored by someone else (a decision, a
    /// cancel). When its state is exactly the run as stored, the scheduler takes it as
    /// it is; otherwise it reads the run again.
    pub fn perform(&self, run: i64, applied: &Applied) {
        let transition = &applied.transition;
        for effect in &transition.effects {
            if let Effect::KillJob { job } = effect {
                let _ = self.commands.send(Command::Kill {
                    run,
                    job: job.clone(),
                });
            }
        }
        if transition.changes.is_empty() && transition.effects.is_empty() {
            return;
        }
        match applied.exact_version {
            Some(version) => {
                let state = Box::new(applied.state.clone());
                let _ = self.commands.send(Command::Changed {
                    run,
                    state,
                    version,
                });
            }
            None => self.wake(run),
        }
    }
}

/// Logs an event the state machine refused; it is expected (a late exit of a killed job,
/// a timer for a gate decided meanwhile) and changes nothing.
fn report<T>(result: Result<T, EventError>) -> Option<T> {
    match result {
        Ok(value) => Some(value),
        Err(EventError::Refused(refused)) => {
            tracing::debug!(%refused, "event refused");
            None
        }
        Err(EventError::Store(error)) => {
            tracing::error!(%error, "scheduler could not write to the store");
            None
        }
    }
}

struct Worker {
    store: Store,
    workspaces: Workspaces,
    max_jobs: usize,
    replica: String,
    lease: Duration,
    rescan: Duration,
    commands: mpsc::UnboundedSender<Command>,
    /// The state of the runs this scheduler works on, as it last wrote or read them.
    runs: ActiveRuns,
    /// Events applied in memory this turn, written together at its end.
    turn: Turn,
    /// Ready tasks waiting for a slot, oldest first.
    queue: VecDeque<JobKey>,
    queued: HashSet<JobKey>,
    /// Tasks holding a slot (running, or starting this turn): when each started and the
    /// switch that kills it.
    running: HashMap<JobKey, RunningTask>,
    /// Waiting gates by deadline.
    deadlines: BTreeSet<(i64, i64, String)>,
    draining: Option<Draining>,
    /// Jobs this server killed on its own account (shutdown, fencing), with the reason
    /// their exit records instead of the signal.
    stop_reasons: HashMap<JobKey, String>,
    /// The store does not answer: what it must still be told (see `outage.rs`).
    outage: Option<Outage>,
    /// Raised by the heartbeat task while this server holds no lease: every job stops.
    fenced: watch::Receiver<bool>,
    metrics: Metrics,
}

#[derive(Debug)]
struct RunningTask {
    started: std::time::Instant,
    kill: Option<oneshot::Sender<()>>,
}

impl Worker {
    async fn run(mut self, mut commands: mpsc::UnboundedReceiver<Command>) {
        let mut rescan =
            tokio::time::interval_at(tokio::time::Instant::now() + self.rescan, self.rescan);
        rescan.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut abandoned = tokio::time::interval(heartbeat::interval(self.lease));
        abandoned.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            if self.drained() {
                return;
            }
            let next_deadline = self.deadlines.first().map(|(deadline, ..)| *deadline);
            let sleep = next_deadline.map(|deadline| {
                let wait = u64::try_from(deadline - now_ms()).unwrap_or(0);
                tokio::time::sleep(Duration::from_millis(wait))
            });
            let grace_over = self
                .draining
                .as_ref()
                .filter(|draining| !draining.killed)
                .map(|draining| tokio::time::sleep_until(draining.deadline));
            let store_retry = self
                .outage
                .as_ref()
                .map(|outage| tokio::time::sleep_until(outage.retry_at));
            tokio::select! {
                command = commands.recv() => match command {
                    Some(command) => {
                        self.handle(command).await;
                        // Whatever else arrived meanwhile joins this turn.
                        for _ in 1..COMMANDS_PER_TURN {
                            let Ok(command) = commands.try_recv() else { break };
                            self.handle(command).await;
                        }
                    }
                    None => return,
                },
                _ = async { sleep.expect("guarded by the condition").await }, if sleep.is_some() => {
                    self.expire_gates().await;
                }
                _ = async { grace_over.expect("guarded by the condition").await }, if grace_over.is_some() => {
                    self.kill_the_rest();
                }
                _ = async { store_retry.expect("guarded by the condition").await }, if store_retry.is_some() => {
                    self.retry_store().await;
                }
                _ = abandoned.tick() => self.fail_abandoned().await,
                _ = rescan.tick() => self.rescan().await,
            }
            self.fill_slots().await;
            self.finish_turn().await;
        }
    }

    async fn handle(&mut self, command: Command) {
        match command {
            Command::Wake(run) => {
                self.metrics.woken();
                self.look_at(run).await;
            }
            Command::Deployed { run, state } => {
                self.metrics.woken();
                // The run as deployed is the oldest state it has: the slow tick may have
                // read it, and started its jobs, before this hand-over arrived.
                if self.runs.get(run).is_none() && self.runs.seen(run).is_none() {
                    self.runs.insert(run, *state, 0);
                }
                self.queue_ready(run);
            }
            Command::Changed {
                run,
                state,
                version,
            } => {
                self.metrics.woken();
                self.take_changed(run, *state, version).await;
            }
            Command::Decide {
                run,
                read,
                event,
                reply,
            } => {
                self.metrics.woken();
                self.decide(run, *read, event, reply);
            }
            Command::Exited { run, job, exit } => {
                if let Some(task) = self.running.remove(&(run, job.clone())) {
                    self.metrics
                        .job_finished(task.started.elapsed().as_secs_f64());
                }
                let exit = match self.stop_reasons.remove(&(run, job.clone())) {
                    Some(reason) => JobExit::Interrupted { reason },
                    None => exit,
                };
                tracing::info!(run, job = %job, exit = ?exit, "job ended");
                self.apply_here(run, Event::JobExited { job, exit }).await;
            }
            Command::Kill { run, job } => self.kill(run, job),
            Command::Fence { silent } => self.fence(silent),
            Command::Shutdown { grace, done } => {
                tracing::info!(
                    running = self.running.len(),
                    grace_secs = grace.as_secs(),
                    "scheduler stopping: no new jobs start"
                );
                self.draining = Some(Draining {
                    deadline: tokio::time::Instant::now() + grace,
                    grace,
                    done: Some(done),
                    killed: false,
                });
            }
        }
    }

    fn kill(&mut self, run: i64, job: String) {
        if let Some(switch) = self
            .running
            .get_mut(&(run, job))
            .and_then(|task| task.kill.take())
        {
            let _ = switch.send(());
        }
    }

    /// Reads the run again (it changed elsewhere), queues its ready tasks and arms its
    /// waiting gates' timers.
    async fn look_at(&mut self, run: i64) {
        // What this turn holds for the run was judged on the old state: write it first.
        self.finish_turn().await;
        // Once the store answers again every run that moved is read (`outage.rs`).
        if self.store_down() {
            return;
        }
        match self.store.load_versioned(run).await {
            Ok((state, version)) => self.adopt(run, state, version),
            Err(error) if error.is_unavailable() => self.store_failed(&error),
            Err(error) => tracing::error!(run, %error, "cannot load run"),
        }
    }

    /// Takes the state someone else wrote at `version` instead of reading the run again,
    /// unless this scheduler wrote the run since (or cannot tell): then it reads it.
    async fn take_changed(&mut self, run: i64, state: RunState, version: i64) {
        self.finish_turn().await;
        match self.runs.seen(run) {
            Some(seen) if seen <= version => self.adopt(run, state, version),
            _ => self.look_at(run).await,
        }
    }

    /// Holds `state` as the run stored at `version`: queues its ready tasks, arms its
    /// waiting gates' timers, and stops the processes of jobs this server runs that the
    /// run has as finished (cancelled through another replica, or failed by the
    /// lease logic while this server could not write).
    fn adopt(&mut self, run: i64, state: RunState, version: i64) {
        let ended_elsewhere: Vec<String> = self
            .running
            .keys()
            .filter(|(of, job)| {
                *of == run && state.job(job).is_some_and(|held| held.status.is_terminal())
            })
            .map(|(_, job)| job.clone())
            .collect();
        for job in ended_elsewhere {
            tracing::info!(run, job = %job, "the job ended elsewhere: stopping its process");
            self.kill(run, job);
        }
        for gate in state.graph().gates() {
            if let Some(job) = state.job(&gate.id)
                && job.status == app::domain::JobStatus::Running
                && let Some(deadline) = job.deadline_ms
            {
                self.deadlines.insert((deadline, run, gate.id.clone()));
            }
        }
        self.runs.insert(run, state, version);
        self.queue_ready(run);
    }

    /// Queues the ready tasks of a run whose state is held.
    fn queue_ready(&mut self, run: i64) {
        let Some(state) = self.runs.get(run) else {
            return;
        };
        let ready: Vec<String> = state
            .ready_tasks()
            .into_iter()
            .map(str::to_string)
            .collect();
        for job in ready {
            self.enqueue(run, job);
        }
    }

    fn enqueue(&mut self, run: i64, job: String) {
        let key = (run, job);
        if !self.running.contains_key(&key) && self.queued.insert(key.clone()) {
            self.queue.push_back(key);
        }
    }

    /// The slow tick: reads again only the running runs whose version moved since this
    /// scheduler last wrote or read them (a lost wake-up), forgets the states of runs it
    /// has nothing to do for, and fails tasks stored as running here with no process.
    async fn rescan(&mut self) {
        if self.store_down() {
            return;
        }
        let runs = match self.store.running_run_versions().await {
            Ok(runs) => runs,
            Err(error) => return self.read_failed("list running runs", &error),
        };
        let busy: HashSet<i64> = self
            .running
            .keys()
            .chain(self.queue.iter())
            .map(|(run, _)| *run)
            .collect();
        self.runs.keep_only(&busy);
        self.runs
            .keep_versions_of(&runs.iter().map(|(run, _)| *run).collect());
        for (run, version) in runs {
            if self.runs.seen(run) != Some(version) {
                self.look_at(run).await;
            }
        }
        self.fail_lost_tasks().await;
    }

    /// Carries out a transition this scheduler stored outside a turn (the jobs of a
    /// replica that stopped): its kills, and the run read again.
    async fn after(&mut self, run: i64, transition: &Transition) {
        for effect in &transition.effects {
            if let Effect::KillJob { job } = effect {
                self.kill(run, job.clone());
            }
        }
        self.look_at(run).await;
    }

    async fn expire_gates(&mut self) {
        let now = now_ms();
        while let Some((deadline, run, gate)) = self.deadlines.first().cloned() {
            if deadline > now {
                break;
            }
            self.deadlines.pop_first();
            self.apply_here(run, Event::GateTimedOut { gate }).await;
        }
    }

    /// Starts queued tasks while slots are free: each start is applied now and its
    /// process spawned once the turn is written.
    async fn fill_slots(&mut self) {
        while self.draining.is_none() && !self.store_down() && self.running.len() < self.max_jobs {
            let Some((run, job)) = self.queue.pop_front() else {
                return;
            };
            self.queued.remove(&(run, job.clone()));
            self.start(run, job).await;
        }
    }
}
