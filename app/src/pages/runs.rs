//! The runs list: every run, newest first, refreshed every 2 seconds.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::api::{RunSummary, list_runs};
use crate::ui::{
    StatusBadge, area_rel, format_elapsed, format_time, latest, list_view, use_interval,
};

#[component]
pub fn RunsPage() -> impl IntoView {
    let tick = use_interval(2000);
    let runs = latest(move || {
        tick.track();
        list_runs(None)
    });
    view! {
        <section class="page">
            <header class="page-header">
                <h1>"Runs"</h1>
            </header>
            {move || {
                            list_view(
                                runs.get(),
                                "Loading runs…",
                                || {
                                    view! {
                                        <div class="empty">
                                            <p>"No runs yet."</p>
                                            <p class="muted">
                                                "Deploy a pipeline from the "
                                                <A href="/pipelines" attr:rel=area_rel("/pipelines")>"Pipelines"</A>
                                                " page to start one."
                                            </p>
                                        </div>
                                    }
                                        .into_any()
                                },
                                |list| view! { <RunsTable runs=list/> }.into_any(),
                            )
            }}
        </section>
    }
}

#[component]
fn RunsTable(runs: Vec<RunSummary>) -> impl IntoView {
    view! {
        <table class="table">
            <thead>
                <tr>
                    <th>"Pipeline"</th>
                    <th>"Run"</th>
                    <th>"Status"</th>
                    <th>"Progress"</th>
                    <th>"Started"</th>
                    <th>"Duration"</th>
                </tr>
            </thead>
            <tbody>
                {runs
                    .into_iter()
                    .map(|run| {
                        let waiting = run.waiting_gates;
                        let done = format!("{}/{}", run.done_jobs(), run.total_jobs);
                        view! {
                            <tr>
                                <td>
                                    <A href=format!("/runs/{}", run.id)>{run.pipeline.clone()}</A>
                                </td>
                                <td class="mono">
                                    <A href=format!("/runs/{}", run.id)>{format!("#{}", run.id)}</A>
                                </td>
                                <td>
                                    <StatusBadge status=run.status.as_str()/>
                                    {(waiting > 0)
                                        .then(|| {
                                            view! {
                                                <span class="badge gate-waiting">
                                                    {format!("{waiting} gate waiting")}
                                                </span>
                                            }
                                        })}
                                </td>
                                <td>{done}</td>
                                <td>{format_time(run.created_at_ms)}</td>
                                <td>{format_elapsed(run.created_at_ms, run.finished_at_ms)}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}
