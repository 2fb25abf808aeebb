//! The run page: header, live graph, log panel, approval banner and workspace files.
//!
//! The graph's shape is fetched once (`get_run`); after that only what changes is
//! polled every 2 s (`run_statuses`), and polling stops when the run has finished.

mod audit;
mod banner;
mod files;
mod graph;
mod header;
mod log_panel;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_params_map;

use crate::api::{JobProgress, RunDetail, RunProgress, get_run, run_statuses};
use crate::domain::{JobStatus, NodeKind, RunGraph, RunNode};
use crate::ui::{ErrorMessage, use_interval};

/// What the parts of the run page share.
#[derive(Clone, Copy)]
pub struct RunContext {
    pub run_id: i64,
    /// The latest poll of the run's progress.
    pub progress: RwSignal<Option<RunProgress>>,
    /// The node whose log is shown.
    pub selected: RwSignal<Option<String>>,
    /// Ticks every 2 s while the page is open.
    pub tick: ReadSignal<u64>,
}

impl RunContext {
    /// The run has finished: nothing will change any more.
    pub fn finished(&self) -> bool {
        self.progress
            .with(|p| p.as_ref().is_some_and(|p| p.run.status.is_finished()))
    }

    pub fn job(&self, id: &str) -> Option<JobProgress> {
        self.progress.with(|p| {
            p.as_ref()
                .and_then(|p| p.jobs.iter().find(|job| job.id == id).cloned())
        })
    }

    pub fn status_of(&self, id: &str) -> JobStatus {
        self.job(id).map_or(JobStatus::Pending, |job| job.status)
    }

    /// Fetches the progress now.
    pub fn refresh(&self) {
        let (run_id, progress) = (self.run_id, self.progress);
        spawn_local(async move {
            if let Ok(latest) = run_statuses(run_id, None).await
                && progress.with_untracked(|known| known.as_ref() != Some(&latest))
            {
                progress.set(Some(latest));
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
    let detail = LocalResource::new(move || get_run(run_id));
    let context = RunContext {
        run_id,
        progress: RwSignal::new(None),
        selected: RwSignal::new(None),
        tick: use_interval(2000),
    };
    provide_context(context);
    Effect::new(move |_| {
        if let Some(Ok(detail)) = detail.get() {
            context.progress.set(Some(progress_of(&detail)));
        }
    });
    Effect::new(move |first: Option<()>| {
        context.tick.track();
        if first.is_some() && !context.finished() {
            context.refresh();
        }
    });
    view! {
        <Transition fallback=|| view! { <p class="muted page">"Loading the run…"</p> }>
            {move || {
                detail
                    .get()
                    .map(|result| match result {
                        Ok(detail) => {
                            let shape = graph_shape(&detail);
                            view! {
                                <section class="page run-page">
                                    <header::RunHeader pipeline=detail.run.pipeline.clone()/>
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
                        Err(error) => view! {
                            <section class="page">
                                <h1>"Run not found"</h1>
                                <ErrorMessage error/>
                            </section>
                        }
                            .into_any(),
                    })
            }}
        </Transition>
    }
}

fn progress_of(detail: &RunDetail) -> RunProgress {
    RunProgress {
        run: detail.run.clone(),
        version: 0,
        jobs: detail
            .jobs
            .iter()
            .map(|job| JobProgress {
                id: job.id.clone(),
                status: job.status,
                reason: job.reason.clone(),
                started_at_ms: job.started_at_ms,
                finished_at_ms: job.finished_at_ms,
                log_bytes: job.log_bytes,
            })
            .collect(),
    }
}

/// The graph's shape (ids, kinds, edges) for the layout; commands are not needed here.
fn graph_shape(detail: &RunDetail) -> RunGraph {
    RunGraph {
        pipeline: detail.run.pipeline.clone(),
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
                    },
                    None => NodeKind::Task {
                        run: String::new(),
                        env: Default::default(),
                        timeout: None,
                    },
                },
            })
            .collect(),
    }
}
