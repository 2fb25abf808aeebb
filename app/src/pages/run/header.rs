//! The run's header: what it is, how far it got, and the run-wide actions.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use super::RunContext;
use crate::api::{ApiError, Deployed, RunSource, cancel_run, deploy_pipeline};
use crate::domain::JobStatus;
use crate::ui::{Call, ErrorMessage, StatusBadge, format_elapsed};

#[component]
pub fn RunHeader(pipeline: String, source: RunSource) -> impl IntoView {
    let context = expect_context::<RunContext>();
    let run_id = context.run_id;
    let navigate = use_navigate();

    let cancel = Call::new();
    let again = Call::<Result<Deployed, ApiError>>::new();
    Effect::new(move |_| {
        if let Some(Ok(deployed)) = again.answer() {
            navigate(&format!("/runs/{}", deployed.run_id), Default::default());
        }
    });

    let summary = move || context.run.get();
    let counts = context.jobs.counts();
    let count = move |status: JobStatus| counts.with(|counts| counts.of(status));
    let percent = move || {
        summary().map_or(0.0, |run| {
            if run.total_jobs == 0 {
                0.0
            } else {
                f64::from(run.done_jobs()) * 100.0 / f64::from(run.total_jobs)
            }
        })
    };

    view! {
        <header class="run-header">
            <div class="run-title">
                <h1>{pipeline}</h1>
                <span class="mono muted">{format!("run #{run_id}")}</span>
                <SourceNote source/>
                {move || summary().map(|run| view! { <StatusBadge status=run.status.as_str()/> })}
                {move || {
                    summary()
                        .map(|run| {
                            view! {
                                <span class="muted">
                                    {format_elapsed(run.created_at_ms, run.finished_at_ms)}
                                </span>
                            }
                        })
                }}
            </div>
            <div class="run-actions">
                <button
                    class="button danger"
                    disabled=move || context.finished() || cancel.pending()
                    on:click=move |_| {
                        cancel.start(async move {
                            let result = cancel_run(run_id, None).await;
                            context.refresh();
                            result
                        });
                    }
                >
                    "Cancel run"
                </button>
                <button
                    class="button"
                    disabled=move || again.pending()
                    on:click=move |_| again.start(deploy_pipeline(None, None, Some(run_id)))
                >
                    "Deploy again"
                </button>
            </div>
            <div class="run-progress">
                <div
                    class="progress"
                    role="progressbar"
                    aria-label="Jobs completed"
                    aria-valuemin="0"
                    aria-valuemax="100"
                    aria-valuenow=move || format!("{:.0}", percent())
                >
                    <div class="progress-fill" style=move || format!("width: {:.1}%", percent())></div>
                </div>
                <span class="counts">
                    {move || {
                        summary()
                            .map(|run| format!("{}/{} done", run.done_jobs(), run.total_jobs))
                    }}
                    {JobStatus::ALL
                        .into_iter()
                        .map(|status| {
                            view! {
                                <span class=format!("count status-text-{}", status.as_str().to_lowercase())>
                                    {move || format!("{} {}", count(status), status.as_str().to_lowercase())}
                                </span>
                            }
                        })
                        .collect_view()}
                </span>
            </div>
            {move || cancel.answer().and_then(Result::err).map(|error| view! { <ErrorMessage error/> })}
            {move || again.answer().and_then(Result::err).map(|error| view! { <ErrorMessage error/> })}
        </header>
    }
}

/// Which saved version the run ran, or that its spec was given whole, and the spec's
/// digest (whole in the tooltip).
#[component]
fn SourceNote(source: RunSource) -> impl IntoView {
    let version = match source.pipeline_version {
        Some(version) => format!("v{version}"),
        None => "ad hoc spec".to_string(),
    };
    let digest = source.spec_sha256.unwrap_or_default();
    let short: String = digest.chars().take(12).collect();
    let shown = if short.is_empty() {
        version
    } else {
        format!("{version} · sha256 {short}")
    };
    view! {
        <span class="mono muted" title=digest aria-label="Pipeline version">
            {shown}
        </span>
    }
}
