//! The run page: header, live graph, log panel, approval banner and workspace files.
//!
//! The graph's shape is fetched once (`get_run`); after that only what changes is
//! polled every 2 s (`run_statuses`), and polling stops when the run has finished.
//! Each job's progress is a signal of its own ([`job_states`]), so a poll re-renders
//! only what changed.

mod audit;
mod banner;
mod files;
mod finder;
mod graph;
mod graph_node;
mod header;
mod job_states;
mod log_panel;
mod viewport;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_params_map;

use crate::api::{JobProgress, RunDetail, RunSummary, get_run, run_statuses};
use crate::domain::{NodeKind, RunGraph, RunNode};
use crate::ui::{DatabaseHealth, ErrorMessage, latest, use_interval};
use job_states::JobStates;

/// What the parts of the run page share.
#[derive(Clone, Copy)]
pub struct RunContext {
    pub run_id: i64,
    /// The run's summary as of the latest poll.
    pub run: RwSignal<Option<RunSummary>>,
    /// Each job's progress, by id.
    pub jobs: JobStates,
    /// The node whose log is shown.
    pub selected: RwSignal<Option<String>>,
    /// The gate a deep link (`/runs/<id>/gates/<gate>`) asked for: the banner shows it
    /// first while it waits.
    pub linked_gate: RwSignal<Option<String>>,
    /// Ticks every 2 s while the page is open.
    pub tick: ReadSignal<u64>,
}

impl RunContext {
    /// The run has finished: nothing will change any more.
    pub fn finished(&self) -> bool {
        self.run
            .with(|run| run.as_ref().is_some_and(|run| run.status.is_finished()))
    }

    /// Job `id`'s progress, tracked.
    pub fn job(&self, id: &str) -> Option<JobProgress> {
        self.jobs.progress(id).map(|progress| progress.get())
    }

    /// Fetches the progress now and merges it.
    pub fn refresh(&self) {
        let (run_id, run, jobs) = (self.run_id, self.run, self.jobs);
        let health = DatabaseHealth::current();
        spawn_local(async move {
            // Only what changed since the last answer merged, once there was one.
            let latest = run_statuses(run_id, jobs.since()).await;
            // The page was left meanwhile.
            if run.is_disposed() {
                return;
            }
            health.note(&latest);
            if let Ok(latest) = latest
                && jobs.merge(latest.version, latest.jobs)
                && run.with_untracked(|known| known.as_ref() != Some(&latest.run))
            {
                run.set(Some(latest.run));
            }
        });
    }
}

#[component]
pub fn RunPage() -> impl IntoView {
    let params = use_params_map();
    let run_id = move || {
        params
            .read()
            .get("id")
            .and_then(|id| id.parse::<i64>().ok())
    };
    move || match run_id() {
        Some(id) => view! { <RunView run_id=id/> }.into_any(),
        None => view! {
            <section class="page">
                <h1>"Run not found"</h1>
                <p class="error" role="alert">"A run id is a whole number, e.g. /runs/1."</p>
            </section>
        }
        .into_any(),
    }
}

#[component]
fn RunView(run_id: i64) -> impl IntoView {
    let detail = latest(move || get_run(run_id));
    let linked_gate = use_params_map().with_untracked(|params| params.get("gate"));
    let context = RunContext {
        run_id,
        run: RwSignal::new(None),
        jobs: JobStates::new(),
        // A deep-linked gate's log is shown, whether it still waits or not.
        selected: RwSignal::new(linked_gate.clone()),
        linked_gate: RwSignal::new(linked_gate),
        tick: use_interval(2000),
    };
    provide_context(context);
    Effect::new(move |first: Option<()>| {
        context.tick.track();
        if first.is_some() && !context.finished() {
            context.refresh();
        }
    });
    view! {
            {move || {
                match detail.get() {
                        None => view! { <p class="muted page">"Loading the run…"</p> }.into_any(),
                        Some(Ok(detail)) => {
                            // Before the views below, which read the jobs' signals.
                            context.jobs.load(&detail);
                            context.run.set(Some(detail.run.clone()));
                            let shape = graph_shape(&detail);
                            view! {
                                <section class="page run-page">
                                    <header::RunHeader
                                        pipeline=detail.run.pipeline.clone()
                                        source=detail.source.clone()
                                    />
                                    <div class="run-body">
                                        <graph::RunGraphView shape/>
                                        <log_panel::LogPanel/>
                                    </div>
                                    <banner::ApprovalBanner/>
                                    <files::FilesPanel/>
                                    <audit::AuditPanel/>
                                </section>
                            }
                                .into_any()
                        }
                        Some(Err(error)) => view! {
                            <section class="page">
                                <h1>"Run not found"</h1>
                                <ErrorMessage error/>
                            </section>
                        }
                            .into_any(),
                }
            }}
    }
}

/// The graph's shape (ids, kinds, edges) for the layout; commands are not needed here.
fn graph_shape(detail: &RunDetail) -> RunGraph {
    RunGraph {
        pipeline: detail.run.pipeline.clone(),
        notify: Vec::new(),
        nodes: detail
            .jobs
            .iter()
            .map(|job| RunNode {
                id: job.id.clone(),
                depends_on: job.depends_on.clone(),
                kind: match &job.gate {
                    Some(gate) => NodeKind::Gate {
                        message: gate.message.clone(),
                        timeout_secs: gate.timeout_secs,
                        source: gate.source.clone(),
                        policy: Default::default(),
                        form: Default::default(),
                        environment: None,
                    },
                    None => NodeKind::Task {
                        run: String::new(),
                        env: Default::default(),
                        timeout: None,
                        when: None,
                        network: None,
                    },
                },
            })
            .collect(),
    }
}
