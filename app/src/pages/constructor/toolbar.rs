//! The Constructor's toolbar: name, add, undo/redo, save, load, deploy, and where the
//! draft stands.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;

use super::{Editor, SaveState};
use crate::api::{
    ApiError, Deployed, PipelineSource, deploy_pipeline, get_pipeline, list_pipelines, list_runs,
    save_pipeline,
};
use crate::constructor::{Draft, Layout};
use crate::ui::{Call, ErrorMessage, area_rel, confirm, latest};

#[component]
pub fn Toolbar() -> impl IntoView {
    let editor = expect_context::<Editor>();
    let deployed = RwSignal::new(None::<Result<Deployed, ApiError>>);
    let saved = RwSignal::new(None::<Result<String, ApiError>>);
    let choosing = RwSignal::new(false);

    let add = move |_| {
        let count = editor.draft.with_untracked(|d| d.nodes.len()) as f64;
        let mut added = 0;
        editor.edit(|d| {
            added = d.add_node(
                40.0 + (count % 4.0) * 220.0,
                40.0 + (count / 4.0).floor() * 100.0,
            )
        });
        editor.selected.set(vec![added]);
    };

    let save = move || {
        let check = editor.check.get_untracked();
        let layout = serde_json::to_value(editor.draft.with_untracked(Draft::layout)).ok();
        spawn_local(async move {
            let result = save_pipeline(PipelineSource::Spec(check.pipeline.clone()), layout).await;
            saved.set(Some(result.map(|p| p.name)));
        });
    };

    let deploying = Call::<()>::new();
    let deploy = move || {
        let pipeline = editor.check.get_untracked().pipeline;
        deploying.start(async move {
            let earlier = list_runs(Some(1000))
                .await
                .map(|runs| runs.iter().filter(|r| r.pipeline == pipeline.name).count())
                .unwrap_or(0);
            if earlier > 0
                && !confirm(&format!(
                    "`{}` has {earlier} run(s) already. Start a new run?",
                    pipeline.name
                ))
            {
                return;
            }
            deployed.set(Some(
                deploy_pipeline(Some(PipelineSource::Spec(pipeline)), None, None).await,
            ));
        });
    };

    let blocked = move || {
        let check = editor.check.get();
        if check.pipeline.jobs.is_empty() {
            Some("Add a job to deploy.".to_string())
        } else if !check.is_valid() {
            let count = check.count();
            let first = check
                .fields
                .first()
                .map(|f| f.message.clone())
                .or_else(|| check.errors.first().map(ToString::to_string))
                .unwrap_or_default();
            Some(format!(
                "Deploy is blocked: {count} problem{} ({first})",
                if count == 1 { "" } else { "s" }
            ))
        } else {
            None
        }
    };
    let name_errors = move || {
        editor.check.with(|check| {
            check
                .errors
                .iter()
                .filter(|e| e.field() == Some("name"))
                .map(|e| view! { <p class="field-error" role="alert">{e.to_string()}</p> })
                .collect_view()
        })
    };
    let status = move || match editor.save_state.get() {
        SaveState::Saved => "Draft saved".to_string(),
        SaveState::Unsaved => "Unsaved changes".to_string(),
        SaveState::Saving => "Saving…".to_string(),
        SaveState::Failed(reason) => format!("Draft not saved: {reason}"),
    };

    view! {
        <header class="toolbar">
            <label class="pipeline-name">
                <span class="muted">"Pipeline"</span>
                <input
                    type="text"
                    aria-label="Pipeline name"
                    prop:value=move || editor.draft.with(|d| d.name.clone())
                    on:input=move |event| {
                        let value = event_target_value(&event);
                        editor.update(|d| d.name = value);
                    }
                />
            </label>
            <button
                class="button"
                on:click=move |_| {
                    let busy = editor.draft.with_untracked(|d| !d.nodes.is_empty());
                    if !busy || confirm("Clear the canvas and start a new pipeline?") {
                        editor.replace(Draft::default());
                    }
                }
            >
                "New"
            </button>
            <button class="button" on:click=add>"Add job"</button>
            <button class="button" disabled=move || !editor.can_undo.get() on:click=move |_| editor.undo()>"Undo"</button>
            <button class="button" disabled=move || !editor.can_redo.get() on:click=move |_| editor.redo()>"Redo"</button>
            <button class="button" on:click=move |_| save()>"Save"</button>
            <button class="button" on:click=move |_| choosing.update(|open| *open = !*open)>"Load"</button>
            <button
                class="button primary"
                disabled=move || blocked().is_some() || deploying.pending()
                on:click=move |_| deploy()
            >
                "Deploy"
            </button>
            <span class="save-state muted" role="status">{status}</span>
        </header>
        {name_errors}
        <p class="blocked" role="status">{blocked}</p>
        {move || choosing.get().then(|| view! { <LoadList choosing/> })}
        {move || match saved.get() {
            Some(Ok(name)) => Some(view! { <p class="outcome">{format!("Saved pipeline `{name}`.")}</p> }.into_any()),
            Some(Err(error)) => Some(view! { <ErrorMessage error/> }.into_any()),
            None => None,
        }}
        {move || match deployed.get() {
            Some(Ok(run)) => Some(view! {
                <p class="outcome" role="status">
                    {format!("Deployed run #{}. ", run.run_id)}
                    <A href=format!("/runs/{}", run.run_id) attr:rel=area_rel("/runs/")>"Open the run"</A>
                </p>
            }.into_any()),
            Some(Err(error)) => Some(view! { <ErrorMessage error/> }.into_any()),
            None => None,
        }}
    }
}

/// The saved pipelines to load onto the canvas.
#[component]
fn LoadList(choosing: RwSignal<bool>) -> impl IntoView {
    let editor = expect_context::<Editor>();
    let pipelines = latest(list_pipelines);
    let load = move |name: String| {
        spawn_local(async move {
            if let Ok(saved) = get_pipeline(name, None).await {
                let layout: Layout = serde_json::from_value(saved.layout).unwrap_or_default();
                let busy = editor.draft.with_untracked(|d| !d.nodes.is_empty());
                if !busy || confirm("Replace what is on the canvas with this pipeline?") {
                    editor.replace(Draft::from_pipeline(&saved.pipeline, &layout));
                }
                choosing.set(false);
            }
        });
    };
    view! {
        <ul class="load-list" aria-label="Saved pipelines">
            {move || pipelines.get().map(|result| match result {
                Ok(list) if list.is_empty() => view! { <li class="muted">"No saved pipelines."</li> }.into_any(),
                Ok(list) => list
                    .into_iter()
                    .map(|p| {
                        let name = p.name.clone();
                        view! {
                            <li>
                                <button class="link" on:click=move |_| load(name.clone())>
                                    {format!("Load {}", p.name)}
                                </button>
                            </li>
                        }
                    })
                    .collect_view()
                    .into_any(),
                Err(error) => view! { <li><ErrorMessage error/></li> }.into_any(),
            })}
        </ul>
    }
}
