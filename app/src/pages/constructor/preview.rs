//! The live preview: the pipeline as YAML (copy, import) and the shape it deploys as,
//! with the injected `hitl-gate-*` nodes.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::ui::{ArrowMarker, Call};

use super::Editor;
use crate::api::parse_pipeline;
use crate::constructor::{Draft, Layout};
use crate::domain::expand;
use crate::layout::{NODE_HEIGHT, NODE_WIDTH, layout};

#[component]
pub fn Preview() -> impl IntoView {
    let editor = expect_context::<Editor>();
    let yaml = Memo::new(move |_| editor.check.with(|c| c.pipeline.to_yaml()));
    let copied = RwSignal::new(false);
    let import_text = RwSignal::new(String::new());
    let import_error = RwSignal::new(None::<String>);

    let copy = move |_| {
        if let Some(window) = web_sys::window() {
            let _ = window
                .navigator()
                .clipboard()
                .write_text(&yaml.get_untracked());
            copied.set(true);
        }
    };
    // The server reads the text: the client has no YAML parser (see `parse_pipeline`).
    let importing = Call::<()>::new();
    let import = move |text: String| {
        importing.start(async move {
            match parse_pipeline(text).await {
                Ok(pipeline) => {
                    let busy = editor.draft.with_untracked(|d| !d.nodes.is_empty());
                    let ok = !busy
                        || web_sys::window()
                            .and_then(|w| {
                                w.confirm_with_message("Replace what is on the canvas?")
                                    .ok()
                            })
                            .unwrap_or(true);
                    if ok {
                        editor.replace(Draft::from_pipeline(&pipeline, &Layout::default()));
                        import_error.set(None);
                        import_text.set(String::new());
                    }
                }
                Err(error) => import_error.set(Some(error.to_string())),
            }
        });
    };
    let on_file = move |event: leptos::ev::Event| {
        use wasm_bindgen::JsCast;
        let file = event
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
            .and_then(|input| input.files())
            .and_then(|files| files.get(0));
        if let Some(file) = file {
            spawn_local(async move {
                let text = wasm_bindgen_futures::JsFuture::from(file.text()).await;
                match text.ok().and_then(|t| t.as_string()) {
                    Some(text) => import(text),
                    None => import_error.set(Some("the file could not be read as text".into())),
                }
            });
        }
    };

    let shape = move || {
        let pipeline = editor.check.with(|c| c.pipeline.clone());
        match expand(&pipeline) {
            Ok(graph) => {
                let drawn = layout(&graph);
                let gates: Vec<bool> = graph.nodes.iter().map(|n| n.is_gate()).collect();
                let nodes = drawn
                    .nodes
                    .iter()
                    .zip(gates)
                    .map(|(node, gate)| {
                        view! {
                            <g class=if gate { "p-node gate" } else { "p-node" } transform=format!("translate({},{})", node.x, node.y) data-preview=node.id.clone()>
                                <rect width=NODE_WIDTH height=NODE_HEIGHT rx="8"></rect>
                                <text x="12" y="29">{node.id.clone()}</text>
                            </g>
                        }
                    })
                    .collect_view();
                let edges = drawn
                    .edges
                    .iter()
                    .map(|e| view! { <path class="edge" d=e.path.clone() marker-end="url(#p-arrow)"></path> })
                    .collect_view();
                view! {
                    <svg class="preview-graph" role="img" aria-label="Deployed shape" viewBox=format!("0 0 {:.0} {:.0}", drawn.width.max(100.0), drawn.height.max(60.0))>
                        <defs>
                            <ArrowMarker id="p-arrow"/>
                        </defs>
                        {edges}
                        {nodes}
                    </svg>
                }
                .into_any()
            }
            Err(_) => view! { <p class="muted">"The deployed shape appears once the pipeline is valid."</p> }.into_any(),
        }
    };

    view! {
        <section class="panel preview-panel" aria-label="Preview">
            <div class="preview-columns">
                <div>
                    <header class="files-header">
                        <h2>"YAML"</h2>
                        <button class="button small" on:click=copy>
                            {move || if copied.get() { "Copied" } else { "Copy" }}
                        </button>
                    </header>
                    <pre class="code" aria-label="Pipeline YAML">{move || yaml.get()}</pre>
                </div>
                <div>
                    <h2>"Deployed shape"</h2>
                    {shape}
                </div>
            </div>
            <details class="import">
                <summary>"Import YAML"</summary>
                <textarea
                    rows="6"
                    class="mono"
                    aria-label="YAML to import"
                    prop:value=move || import_text.get()
                    on:input=move |event| import_text.set(event_target_value(&event))
                ></textarea>
                <div class="import-actions">
                    <button
                        class="button"
                        disabled=move || importing.pending()
                        on:click=move |_| import(import_text.get_untracked())
                    >
                        "Import"
                    </button>
                    <input type="file" accept=".yaml,.yml,.json" aria-label="Import a file" on:change=on_file/>
                </div>
                {move || import_error.get().map(|e| view! { <p class="field-error" role="alert">{e}</p> })}
            </details>
        </section>
    }
}
