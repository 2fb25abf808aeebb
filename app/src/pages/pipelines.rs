//! The saved pipelines, with the YAML of the one selected.

use leptos::prelude::*;

use super::pipeline_history::PipelineHistory;
use crate::api::{
    ApiError, Deployed, PipelineSummary, deploy_pipeline, get_pipeline, list_pipelines,
};
use crate::ui::{Call, ErrorMessage, format_time, latest, list_view, open_page};

#[component]
pub fn PipelinesPage() -> impl IntoView {
    let pipelines = latest(list_pipelines);
    let (selected, set_selected) = signal(None::<String>);
    let detail = latest(move || {
        let name = selected.get();
        async move {
            match name {
                Some(name) => Some(get_pipeline(name, None).await),
                None => None,
            }
        }
    });
    view! {
        <section class="page">
            <header class="page-header">
                <h1>"Pipelines"</h1>
            </header>
            {move || {
                    list_view(
                                pipelines.get(),
                                "Loading pipelines…",
                                || {
                                    view! {
                                        <div class="empty">
                                            <p>"No saved pipelines yet."</p>
                                            <p class="muted">
                                                "Start the server with "
                                                <code>"--pipeline FILE"</code>
                                                " or save one through the API."
                                            </p>
                                        </div>
                                    }
                                        .into_any()
                                },
                                |list| {
                                    view! {
                                        <PipelinesTable pipelines=list on_select=set_selected/>
                                    }
                                        .into_any()
                                },
                            )
            }}
            {move || {
                    detail
                        .get()
                        .flatten()
                        .map(|result| match result {
                            Ok(saved) => view! {
                                <article class="panel" aria-label="Pipeline definition">
                                    <h2>{format!("{} v{}", saved.name, saved.version)}</h2>
                                    <pre class="code">{saved.yaml.clone()}</pre>
                                </article>
                                <PipelineHistory name=saved.name.clone()/>
                            }
                                .into_any(),
                            Err(error) => view! { <ErrorMessage error/> }.into_any(),
                        })
            }}
        </section>
    }
}

#[component]
fn PipelinesTable(
    pipelines: Vec<PipelineSummary>,
    on_select: WriteSignal<Option<String>>,
) -> impl IntoView {
    view! {
        <table class="table">
            <thead>
                <tr>
                    <th>"Name"</th>
                    <th>"Jobs"</th>
                    <th>"Gates"</th>
                    <th>"Updated"</th>
                    <th></th>
                </tr>
            </thead>
            <tbody>
                {pipelines
                    .into_iter()
                    .map(|pipeline| {
                        let name = pipeline.name.clone();
                        view! {
                            <tr>
                                <td>{pipeline.name.clone()}</td>
                                <td>{pipeline.jobs}</td>
                                <td>
                                    {(pipeline.gates > 0)
                                        .then(|| {
                                            view! { <span class="badge hitl">"HITL"</span> }
                                        })}
                                    {format!(" {}", pipeline.gates)}
                                </td>
                                <td>{format_time(pipeline.updated_at_ms)}</td>
                                <td class="actions">
                                    <button
                                        class="button"
                                        on:click={
                                            let name = name.clone();
                                            move |_| on_select.set(Some(name.clone()))
                                        }
                                    >
                                        "View"
                                    </button>
                                    <DeployButton name=name.clone()/>
                                </td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}

/// Starts a new run of a saved pipeline and opens its run page.
#[component]
fn DeployButton(name: String) -> impl IntoView {
    let deploy = Call::<Result<Deployed, ApiError>>::new();
    Effect::new(move |_| {
        if let Some(Ok(deployed)) = deploy.answer() {
            open_page(&format!("/runs/{}", deployed.run_id));
        }
    });
    let label = format!("Deploy {name}");
    view! {
        <button
            class="button primary"
            aria-label=label
            disabled=move || deploy.pending()
            on:click=move |_| {
                deploy.start(deploy_pipeline(None, Some(name.clone()), None));
            }
        >
            "Deploy"
        </button>
        {move || {
            deploy
                .answer()
                .and_then(Result::err)
                .map(|error| view! { <ErrorMessage error/> })
        }}
    }
}
