//! The backend the server functions call: the API's operations on the store, the
//! scheduler and the workspaces. Conversions to API types are in `views.rs`.

mod accounts;
mod environments;
mod gate_access;
mod refusal;
mod views;
mod yaml_diff;

use async_trait::async_trait;

use std::collections::HashMap;
use std::net::IpAddr;

use app::api::backend::{Backend, GateDecisionRequest};
use app::api::{
    ApiError, AuditEntry, Deployed, DiffLine, EnvironmentView, JobProgress, JobView, LogPage,
    NewToken, NotificationView, PendingGate, PipelineSummary, PipelineVersion, RunDetail,
    RunProgress, RunSource, RunSummary, SavedPipeline, TokenView, UserUpdate, UserView,
    WorkspaceFile,
};
use app::constructor::Draft;
use app::domain::{
    Action, Actor, Decision, Event, GateChoice, GateForm, NodeKind, Pipeline, RunNode, RunState,
    ValidationErrors, check_run_size, expand, validate,
};

use crate::auth::Authenticator;
use crate::clock::now_ms;
use crate::engine::{EventError, apply_event};
use crate::metrics::Metrics;
use crate::scheduler::{Decided, Scheduler};
use crate::store::{RunOrigin, Store, StoreError};
use crate::workspace::Workspaces;

/// The API over one store and its scheduler.
#[derive(Clone, Debug)]
pub struct StoreBackend {
    store: Store,
    scheduler: Scheduler,
    workspaces: Workspaces,
    metrics: Metrics,
    auth: Authenticator,
    /// `--max-jobs-per-run`: the most nodes (jobs and gates) a saved or deployed pipeline
    /// may have.
    max_jobs_per_run: usize,
    /// `--notify-allow-link-local`.
    notify_allow_link_local: bool,
}

impl StoreBackend {
    pub fn new(
        store: Store,
        scheduler: Scheduler,
        workspaces: Workspaces,
        metrics: Metrics,
        auth: Authenticator,
        max_jobs_per_run: usize,
        notify_allow_link_local: bool,
    ) -> StoreBackend {
        StoreBackend {
            store,
            scheduler,
            workspaces,
            metrics,
            auth,
            max_jobs_per_run,
            notify_allow_link_local,
        }
    }

    /// The server's limits on a pipeline, then every rule of [`validate`]; 422 with the
    /// problems otherwise. The size comes first: it is a count, while the rules walk the
    /// whole graph.
    fn check(&self, pipeline: &Pipeline) -> Result<(), ApiError> {
        check_run_size(pipeline, self.max_jobs_per_run)?;
        validate(pipeline)?;
        self.server_rules(pipeline)?;
        Ok(())
    }

    /// The rules only the server can check: gate input patterns (compiled with `regex`),
    /// the ports jobs may not reach and the addresses webhooks may not.
    fn server_rules(&self, pipeline: &Pipeline) -> Result<(), ValidationErrors> {
        crate::gate_patterns::check(pipeline)?;
        crate::sandbox::network::policy().check(pipeline)?;
        if !self.notify_allow_link_local {
            crate::webhooks::check_link_local(pipeline)?;
        }
        Ok(())
    }

    /// A saved pipeline as stored; 404 when there is none of that name.
    async fn saved(&self, name: &str) -> Result<SavedPipeline, ApiError> {
        match self.store.get_pipeline(name).await? {
            Some(record) => views::saved_pipeline(record),
            None => Err(ApiError::not_found(format!(
                "no saved pipeline is named `{name}`"
            ))),
        }
    }

    /// One version of a saved pipeline; 404 saying which versions there are.
    async fn saved_version(&self, name: &str, version: i64) -> Result<SavedPipeline, ApiError> {
        match self.store.get_pipeline_version(name, version).await? {
            Some(record) => views::saved_pipeline(record),
            None => {
                let newest = self.saved(name).await?.version;
                Err(ApiError::not_found(format!(
                    "pipeline `{name}` has no version {version}: its versions are 1 to {newest}"
                )))
            }
        }
    }

    /// Applies a person's event to a run (with its gate log lines) and hands its
    /// effects to the scheduler. Returns the run's state after the event.
    async fn act(&self, run: i64, event: Event) -> Result<RunState, EventError> {
        let applied = apply_event(&self.store, run, event).await?;
        // Before the released jobs start, so they can read it.
        crate::gate_records::record_decisions(&self.workspaces, run, &applied.transition);
        self.scheduler.perform(run, &applied);
        Ok(applied.state)
    }

    /// A job as the API shows it, with its node from the run's graph the caller holds
    /// already (no second read of the whole run while the scheduler starts what the
    /// action released).
    async fn job_view(
        &self,
        run: i64,
        job: &str,
        node: Option<&RunNode>,
    ) -> Result<JobView, ApiError> {
        let record = self.store.job(run, job).await?;
        Ok(views::job(record, node))
    }
}

/// Store errors as the API reports them. Database details go to the log, not the user.
impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> ApiError {
        match error {
            StoreError::UnknownRun(_)
            | StoreError::UnknownJob { .. }
            | StoreError::UnknownUser(_) => ApiError::not_found(error.to_string()),
            StoreError::UserExists(_) => ApiError::conflict(error.to_string()),
            StoreError::Conflict { .. } | StoreError::RunFinished(_) => {
                ApiError::conflict(error.to_string())
            }
            StoreError::NotPrepared { error, .. } => {
                tracing::error!(%error, "cannot create a run's workspace");
                ApiError::internal(format!(
                    "cannot create the run's workspace ({error}); nothing was deployed: check \
                     that the data directory is writable and has free space"
                ))
            }
            error if error.is_unavailable() => {
                tracing::warn!(%error, "the store does not answer");
                ApiError::database_unavailable()
            }
            StoreError::Corrupt(_) | StoreError::Database(_) | StoreError::Migration(_) => {
                tracing::error!(%error, "store failure");
                ApiError::internal("the database failed; the server log has the details")
            }
        }
    }
}

impl From<EventError> for ApiError {
    fn from(error: EventError) -> ApiError {
        match error {
            EventError::Refused(refused) => ApiError::conflict(refused.to_string()),
            EventError::Store(error) => error.into(),
        }
    }
}

/// The actor's permission for this kind of request, or 403 with the reason.
/// A saved pipeline as `actor` may see it: `env` values to those who may deploy, whole
/// `notify` URLs to admins.
fn redacted_for(saved: SavedPipeline, actor: &Actor) -> SavedPipeline {
    let may_deploy = actor.authorize(Action::Operate).is_ok();
    saved.redacted_for(may_deploy, actor.is_admin())
}

/// The SHA-256 of a pipeline's spec as stored (its JSON), which a run records.
fn spec_digest(pipeline: &Pipeline) -> Result<String, ApiError> {
    let spec =
        serde_json::to_string(pipeline).map_err(|err| internal("cannot read the pipeline", err))?;
    Ok(crate::store::spec_sha256(&spec))
}

fn require(actor: &Actor, action: Action) -> Result<(), ApiError> {
    actor.authorize(action).map_err(ApiError::forbidden)
}

fn internal(what: &str, error: impl std::fmt::Display) -> ApiError {
    tracing::error!(%error, "{what}");
    ApiError::internal(format!("{what}; the server log has the details"))
}

#[async_trait]
impl Backend for StoreBackend {
    async fn list_runs(&self, _: &Actor, limit: u32) -> Result<Vec<RunSummary>, ApiError> {
        let runs = self.store.list_runs(i64::from(limit)).await?;
        Ok(runs.into_iter().map(views::run_summary).collect())
    }

    async fn list_pipelines(&self, _: &Actor) -> Result<Vec<PipelineSummary>, ApiError> {
        let records = self.store.list_pipelines().await?;
        records
            .into_iter()
            .map(|record| {
                let saved = views::saved_pipeline(record)?;
                let jobs = &saved.pipeline.jobs;
                let gates = jobs
                    .iter()
                    .filter(|job| job.active_gate().is_some())
                    .count();
                Ok(PipelineSummary {
                    jobs: views::count(jobs.len() as i64),
                    gates: views::count(gates as i64),
                    name: saved.name,
                    updated_at_ms: saved.updated_at_ms,
                })
            })
            .collect()
    }

    async fn list_environments(&self, _: &Actor) -> Result<Vec<EnvironmentView>, ApiError> {
        self.environment_list().await
    }

    async fn save_environment(
        &self,
        actor: &Actor,
        name: &str,
        rules: app::domain::environment::EnvironmentRules,
    ) -> Result<EnvironmentView, ApiError> {
        self.environment_save(actor, name, rules).await
    }

    async fn delete_environment(&self, actor: &Actor, name: &str) -> Result<(), ApiError> {
        self.environment_delete(actor, name).await
    }

    /// Job `env` values to those who may deploy, whole `notify` URLs to admins.
    async fn get_pipeline(
        &self,
        actor: &Actor,
        name: &str,
        version: Option<i64>,
    ) -> Result<SavedPipeline, ApiError> {
        let saved = match version {
            None => self.saved(name).await?,
            Some(version) => self.saved_version(name, version).await?,
        };
        Ok(redacted_for(saved, actor))
    }

    async fn pipeline_history(
        &self,
        _: &Actor,
        name: &str,
    ) -> Result<Vec<PipelineVersion>, ApiError> {
        let versions = self.store.pipeline_versions(name).await?;
        if versions.is_empty() {
            return Err(ApiError::not_found(format!(
                "no saved pipeline is named `{name}`"
            )));
        }
        Ok(versions.into_iter().map(views::pipeline_version).collect())
    }

    async fn pipeline_diff(
        &self,
        actor: &Actor,
        name: &str,
        from: i64,
        to: i64,
    ) -> Result<Vec<DiffLine>, ApiError> {
        let before = redacted_for(self.saved_version(name, from).await?, actor);
        let after = redacted_for(self.saved_version(name, to).await?, actor);
        Ok(yaml_diff::lines(&before.yaml, &after.yaml))
    }

    async fn saved_pipeline(&self, actor: &Actor, name: &str) -> Result<(Pipeline, i64), ApiError> {
        require(actor, Action::Operate)?;
        let saved = self.saved(name).await?;
        Ok((saved.pipeline, saved.version))
    }

    /// Anyone signed in may: it reads nothing from the store.
    async fn parse_pipeline(&self, _: &Actor, text: &str) -> Result<Pipeline, ApiError> {
        Ok(Pipeline::parse(text)?)
    }

    async fn save_pipeline(
        &self,
        actor: &Actor,
        mut pipeline: Pipeline,
        layout: serde_json::Value,
    ) -> Result<SavedPipeline, ApiError> {
        require(actor, Action::Operate)?;
        // What `get_pipeline` hid from this person comes back as it was saved.
        let before = match self.saved(&pipeline.name).await {
            Ok(saved) => Some(saved.pipeline),
            Err(ApiError::NotFound { .. }) => None,
            Err(other) => return Err(other),
        };
        pipeline.restore_hidden_urls(before.as_ref())?;
        self.check(&pipeline)?;
        // Refused when a gate asks for less than its environment; saved as written.
        self.under_environments(&pipeline, None).await?;
        let spec = serde_json::to_string(&pipeline)
            .map_err(|err| internal("cannot store the pipeline", err))?;
        let record = self
            .store
            .save_pipeline(
                &pipeline.name,
                &spec,
                &layout.to_string(),
                now_ms(),
                Some(&actor.username),
            )
            .await?;
        let detail = format!(
            "version {} of `{}` (sha256 {})",
            record.version,
            record.name,
            crate::store::spec_sha256(&spec)
        );
        self.auth
            .audit(None, "pipeline_saved", Some(&actor.username), Some(detail))
            .await;
        Ok(redacted_for(views::saved_pipeline(record)?, actor))
    }

    async fn deploy(
        &self,
        actor: &Actor,
        mut pipeline: Pipeline,
        version: Option<i64>,
    ) -> Result<Deployed, ApiError> {
        require(actor, Action::Operate)?;
        // A hidden URL in a spec given whole stands for nothing.
        pipeline.restore_hidden_urls(None)?;
        let written = pipeline;
        // The gates that name an environment, under its rules as they are now.
        let pipeline = self.under_environments(&written, Some(actor)).await?;
        // A saved pipeline or an earlier run's may predate a lower limit: check again.
        check_run_size(&pipeline, self.max_jobs_per_run)?;
        let graph = expand(&pipeline)?;
        self.server_rules(&pipeline)?;
        let origin = RunOrigin {
            pipeline_version: version,
            spec_sha256: Some(spec_digest(&written)?),
        };
        // The workspace is made before the run is committed: if it cannot be, no run
        // is left RUNNING without one.
        let workspaces = self.workspaces.clone();
        let run = self
            .store
            .create_run_prepared(&graph, Some(&actor.username), &origin, now_ms(), |id| {
                workspaces.create(id).map(drop)
            })
            .await?;
        self.scheduler
            .deployed(run.id, app::domain::RunState::new(graph.clone()));
        tracing::info!(run = run.id, pipeline = %run.pipeline, by = %actor.username, "deployed");
        Ok(Deployed {
            run_id: run.id,
            pipeline: run.pipeline,
            jobs: graph.nodes.iter().map(|node| node.id.clone()).collect(),
            gates: graph.gates().map(|gate| gate.id.clone()).collect(),
        })
    }

    async fn get_run(&self, _: &Actor, run: i64) -> Result<RunDetail, ApiError> {
        let summary = self.store.run_summary(run).await?;
        let graph = self.store.graph(run).await?;
        let jobs = self.store.jobs(run).await?;
        let nodes: HashMap<&str, &RunNode> = graph
            .nodes
            .iter()
            .map(|node| (node.id.as_str(), node))
            .collect();
        let origin = self.store.run_origin(run).await?;
        Ok(RunDetail {
            run: views::run_summary(summary),
            source: RunSource {
                pipeline_version: origin.pipeline_version,
                spec_sha256: origin.spec_sha256,
            },
            jobs: jobs
                .into_iter()
                .map(|job| {
                    let node = nodes.get(job.job_id.as_str()).copied();
                    views::job(job, node)
                })
                .collect(),
            edges: views::edges(&graph),
        })
    }

    async fn run_statuses(
        &self,
        _: &Actor,
        run: i64,
        since: Option<i64>,
    ) -> Result<RunProgress, ApiError> {
        // The summary first: a change that lands between the two reads has a higher
        // version than the one returned, so the next poll lists it (again at worst).
        let summary = self.store.run_summary(run).await?;
        let jobs = self.store.job_progress(run, since).await?;
        Ok(RunProgress {
            version: summary.version,
            run: views::run_summary(summary),
            jobs: jobs
                .into_iter()
                .map(|job| JobProgress {
                    log_bytes: u64::try_from(job.log_bytes).unwrap_or(0),
                    id: job.job_id,
                    status: job.status,
                    reason: job.reason,
                    started_at_ms: job.started_at,
                    finished_at_ms: job.finished_at,
                })
                .collect(),
        })
    }

    /// The saved version comes along only when the pipeline is exactly what that run
    /// ran (its spec's digest is the one the run recorded).
    async fn run_pipeline(&self, _: &Actor, run: i64) -> Result<(Pipeline, Option<i64>), ApiError> {
        let pipeline = self.store.graph(run).await?.to_pipeline();
        let origin = self.store.run_origin(run).await?;
        let same = origin.spec_sha256 == Some(spec_digest(&pipeline)?);
        Ok((pipeline, origin.pipeline_version.filter(|_| same)))
    }

    async fn pending_gates(
        &self,
        actor: &Actor,
        run: Option<i64>,
    ) -> Result<Vec<PendingGate>, ApiError> {
        if let Some(run) = run {
            self.store.get_run(run).await?;
        }
        let gates = self.store.waiting_gates(run).await?;
        let approvals = self.store.waiting_approvals(run).await?;
        Ok(gates
            .into_iter()
            .map(|gate| gate_access::pending_gate(gate, &approvals, actor))
            .collect())
    }

    async fn decide_gate(
        &self,
        actor: &Actor,
        run: i64,
        gate: &str,
        request: GateDecisionRequest,
    ) -> Result<JobView, ApiError> {
        // One read of the run serves the checks and the decision itself.
        let loaded = self.store.load_run(run).await?;
        let Some(node) = loaded.state.node(gate).cloned() else {
            return Err(StoreError::UnknownJob {
                run,
                job: gate.to_string(),
            }
            .into());
        };
        let NodeKind::Gate { policy, form, .. } = &node.kind else {
            return Err(ApiError::bad_request(format!(
                "`{gate}` is a job, not a gate: only `hitl-gate-*` nodes can be approved or rejected"
            )));
        };
        let Some(now) = loaded.state.job(gate) else {
            return Err(StoreError::Corrupt(format!("run {run} has no state for `{gate}`")).into());
        };
        // A finished gate never waits again, so its decision is refused below (409,
        // with who decided it) whoever asks. A pending one is checked like a waiting
        // one: it may start waiting between this read and the decision.
        let choice = if now.status.is_terminal() {
            // Refused below as decided already: its values do not matter.
            GateChoice::default()
        } else {
            gate_access::check(
                actor,
                policy,
                loaded.deployed_by.as_deref(),
                &now.approved_by,
                &request,
            )?;
            choice_of(form, &request)?
        };
        let event = Event::GateDecided {
            gate: gate.to_string(),
            decision: request.decision,
            by: actor.username.clone(),
            comment: request.comment,
            overriding: request.overriding,
            choice,
        };
        let started = std::time::Instant::now();
        // Written with the starts it releases; by this server itself only when the
        // scheduler cannot take it.
        let read = (loaded.state, loaded.version);
        let outcome = match self.scheduler.decide(run, read, event).await {
            Decided::Written => Ok(()),
            Decided::Failed(error) => Err(error),
            Decided::NotTaken(event) => self.act(run, event).await.map(drop),
        };
        match outcome {
            Ok(()) => {
                self.metrics.decision(started.elapsed().as_secs_f64());
                self.job_view(run, gate, Some(&node)).await
            }
            Err(EventError::Refused(app::domain::TransitionError::AlreadyApproved { .. })) => {
                Err(ApiError::conflict(
                    "you approved this gate already; another person must give the next approval",
                ))
            }
            Err(EventError::Refused(_)) => {
                let now = self.store.job(run, gate).await?;
                Err(ApiError::conflict(refusal::not_waiting(&now)))
            }
            Err(other) => Err(other.into()),
        }
    }

    async fn cancel_run(&self, actor: &Actor, run: i64) -> Result<RunSummary, ApiError> {
        require(actor, Action::Operate)?;
        self.store.get_run(run).await?;
        let by = actor.username.clone();
        self.act(run, Event::RunCancelled { by }).await?;
        Ok(views::run_summary(self.store.run_summary(run).await?))
    }

    async fn cancel_job(&self, actor: &Actor, run: i64, job: &str) -> Result<JobView, ApiError> {
        require(actor, Action::Operate)?;
        self.store.job(run, job).await?;
        let event = Event::JobCancelled {
            job: job.to_string(),
            by: actor.username.clone(),
        };
        let state = self.act(run, event).await?;
        self.job_view(run, job, state.node(job)).await
    }

    async fn job_log(
        &self,
        _: &Actor,
        run: i64,
        job: &str,
        offset: u64,
        limit: u64,
    ) -> Result<LogPage, ApiError> {
        let chunk = self.store.read_log(run, job, offset, limit).await?;
        Ok(LogPage {
            text: chunk.text,
            offset: chunk.offset,
            next_offset: chunk.next_offset,
            total_bytes: chunk.total_bytes,
            finished: chunk.finished,
        })
    }

    async fn save_draft(&self, actor: &Actor, draft: Draft) -> Result<i64, ApiError> {
        require(actor, Action::Operate)?;
        let text =
            serde_json::to_string(&draft).map_err(|err| internal("cannot store the draft", err))?;
        let now = now_ms();
        self.store.save_draft(&actor.username, &text, now).await?;
        Ok(now)
    }

    async fn load_draft(&self, actor: &Actor) -> Result<Option<Draft>, ApiError> {
        let Some((text, _)) = self.store.load_draft(&actor.username).await? else {
            return Ok(None);
        };
        // A draft this version cannot read is dropped rather than blocking the page.
        Ok(serde_json::from_str(&text)
            .inspect_err(|error| tracing::warn!(%error, "ignoring an unreadable draft"))
            .ok())
    }

    async fn list_files(&self, _: &Actor, run: i64) -> Result<Vec<WorkspaceFile>, ApiError> {
        let jobs = self.store.jobs(run).await?;
        let workspaces = self.workspaces.clone();
        let files = tokio::task::spawn_blocking(move || workspaces.list(run))
            .await
            .map_err(|err| internal("cannot list the workspace", err))?
            .map_err(|err| internal("cannot list the workspace", err))?;
        Ok(files
            .into_iter()
            .map(|file| views::workspace_file(file, &jobs))
            .collect())
    }

    async fn sign_in(
        &self,
        username: &str,
        password: &str,
        address: Option<IpAddr>,
    ) -> Result<(Actor, String), ApiError> {
        let signed_in = self.auth.sign_in(username, password, address).await?;
        Ok((signed_in.actor, signed_in.set_cookie))
    }

    async fn sign_out(&self, actor: &Actor, session: Option<&str>) -> Result<String, ApiError> {
        self.auth.sign_out(session, actor).await
    }

    async fn list_users(&self, actor: &Actor) -> Result<Vec<UserView>, ApiError> {
        require(actor, Action::Administer)?;
        self.users().await
    }

    async fn create_user(
        &self,
        actor: &Actor,
        username: &str,
        password: &str,
        update: UserUpdate,
    ) -> Result<UserView, ApiError> {
        require(actor, Action::Administer)?;
        self.add_user(actor, username, password, update).await
    }

    async fn update_user(
        &self,
        actor: &Actor,
        username: &str,
        update: UserUpdate,
    ) -> Result<UserView, ApiError> {
        require(actor, Action::Administer)?;
        self.change_user(actor, username, update).await
    }

    async fn set_password(
        &self,
        actor: &Actor,
        username: &str,
        current: Option<String>,
        new: &str,
        address: Option<IpAddr>,
    ) -> Result<(), ApiError> {
        self.change_password(actor, username, current, new, address)
            .await
    }

    async fn create_token(
        &self,
        actor: &Actor,
        owner: Option<String>,
        name: &str,
        expires_in_days: Option<u32>,
    ) -> Result<NewToken, ApiError> {
        self.new_token(actor, owner, name, expires_in_days).await
    }

    async fn list_tokens(&self, actor: &Actor, all: bool) -> Result<Vec<TokenView>, ApiError> {
        if all {
            require(actor, Action::Administer)?;
        }
        let owner = (!all).then_some(actor.username.as_str());
        let tokens = self.store.list_tokens(owner).await?;
        Ok(tokens.into_iter().map(views::token).collect())
    }

    async fn revoke_token(&self, actor: &Actor, id: i64) -> Result<TokenView, ApiError> {
        self.end_token(actor, id).await
    }

    async fn audit_trail(
        &self,
        actor: &Actor,
        run: Option<i64>,
    ) -> Result<Vec<AuditEntry>, ApiError> {
        let events = match run {
            Some(run) => {
                self.store.get_run(run).await?;
                self.store.events(run).await?
            }
            None => {
                require(actor, Action::Administer)?;
                self.store.account_events(500).await?
            }
        };
        Ok(events.into_iter().map(views::audit_entry).collect())
    }

    async fn notifications(&self, actor: &Actor) -> Result<Vec<NotificationView>, ApiError> {
        require(actor, Action::Administer)?;
        let records = self.store.recent_notifications(200).await?;
        Ok(records.into_iter().map(views::notification).collect())
    }
}

/// What an approval chose, checked against the gate's form; a rejection chooses nothing.
fn choice_of(form: &GateForm, request: &GateDecisionRequest) -> Result<GateChoice, ApiError> {
    match request.decision {
        Decision::Approve => form
            .check_choice(
                request.option.as_deref(),
                &request.inputs,
                &crate::gate_patterns::matches,
            )
            .map_err(ApiError::invalid_input),
        Decision::Reject if request.option.is_some() || !request.inputs.is_empty() => {
            Err(ApiError::bad_request(
                "a rejection takes no `option` or `inputs`: they go with an approval; say why in `comment`",
            ))
        }
        Decision::Reject => Ok(GateChoice::default()),
    }
}
