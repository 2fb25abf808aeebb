//! What belongs to the pipeline rather than to one job, shown while no job is selected:
//! its webhook endpoints (`notify`).

use leptos::prelude::*;

use super::Editor;

#[component]
pub fn PipelineFields() -> impl IntoView {
    let editor = expect_context::<Editor>();
    let problems = move || {
        editor.check.with(|check| {
            check
                .errors
                .iter()
                .filter(|error| error.field() == Some("notify"))
                .map(ToString::to_string)
                .collect::<Vec<_>>()
        })
    };
    view! {
        <fieldset class="branch-fields fields">
            <legend>"Pipeline"</legend>
            <label>
                "Webhooks (one URL per line)"
                <textarea
                    rows="2"
                    class="mono"
                    placeholder="https://hooks.example.com/tollgate"
                    prop:value=move || editor.draft.with(|d| d.notify.clone())
                    on:input=move |event| {
                        let value = event_target_value(&event);
                        editor.update(|d| d.notify = value);
                    }
                ></textarea>
            </label>
            <p class="help muted">"Told when a gate waits, is decided or times out, and when a run finishes."</p>
            {move || {
                problems()
                    .into_iter()
                    .map(|message| view! { <p class="field-error" role="alert">{message}</p> })
                    .collect_view()
            }}
        </fieldset>
    }
}
