//! The selected job's fields, each marked with the same messages the server gives.

use leptos::prelude::*;

use super::Editor;
use super::gate_form_editor::GateFormEditor;
use super::pipeline_fields::PipelineFields;
use crate::constructor::DraftNode;
use crate::domain::DEFAULT_GATE_TIMEOUT_SECS;

#[component]
pub fn Sidebar() -> impl IntoView {
    let editor = expect_context::<Editor>();
    let single = move || {
        editor.selected.with(|selected| match selected.as_slice() {
            [key] => Some(*key),
            _ => None,
        })
    };
    view! {
        <aside class="sidebar" aria-label="Job settings">
            {move || match single() {
                Some(key) => view! { <NodeFields key/> }.into_any(),
                None => view! {
                    <p class="muted">
                        {move || {
                            let count = editor.selected.with(Vec::len);
                            if count > 1 {
                                format!("{count} jobs selected: Delete removes them, Ctrl+D duplicates them.")
                            } else {
                                "Select a job to edit it.".to_string()
                            }
                        }}
                    </p>
                    <PipelineFields/>
                }
                .into_any(),
            }}
        </aside>
    }
}

/// Messages for one field of one node: unreadable values and broken rules.
fn messages(editor: Editor, key: u32, field: &'static str) -> Vec<String> {
    let id = editor
        .draft
        .with(|d| d.node(key).map(|n| n.id.clone()))
        .unwrap_or_default();
    editor.check.with(|check| {
        let unreadable = check
            .fields
            .iter()
            .filter(|p| p.node == key && p.field == field)
            .map(|p| p.message.clone());
        let broken = check
            .errors
            .iter()
            .filter(|e| e.job() == Some(id.as_str()) && e.field() == Some(field))
            .map(ToString::to_string);
        unreadable.chain(broken).collect()
    })
}

#[component]
fn FieldErrors(key: u32, field: &'static str) -> impl IntoView {
    let editor = expect_context::<Editor>();
    move || {
        messages(editor, key, field)
            .into_iter()
            .map(|message| view! { <p class="field-error" role="alert">{message}</p> })
            .collect_view()
    }
}

#[component]
fn NodeFields(key: u32) -> impl IntoView {
    let editor = expect_context::<Editor>();
    let read = move |get: fn(&DraftNode) -> String| {
        move || {
            editor
                .draft
                .with(|d| d.node(key).map(get).unwrap_or_default())
        }
    };
    let write = move |set: fn(&mut DraftNode, String)| {
        move |event: leptos::ev::Event| {
            let value = event_target_value(&event);
            editor.update(|d| {
                if let Some(node) = d.node_mut(key) {
                    set(node, value);
                }
            });
        }
    };
    let upstream = move || {
        editor.draft.with(|d| {
            let ids: Vec<String> = d
                .edges
                .iter()
                .filter(|e| e.to == key)
                .filter_map(|e| d.node(e.from).map(|n| n.id.clone()))
                .collect();
            if ids.is_empty() {
                "nothing (starts at once)".to_string()
            } else {
                ids.join(", ")
            }
        })
    };
    view! {
        <div class="fields">
            <label>
                "Job ID"
                <input type="text" prop:value=read(|n| n.id.clone()) on:input=write(|n, v| n.id = v)/>
            </label>
            <FieldErrors key field="id"/>
            <label>
                "Run"
                <textarea rows="5" class="mono" prop:value=read(|n| n.run.clone()) on:input=write(|n, v| n.run = v)></textarea>
            </label>
            <FieldErrors key field="run"/>
            <div class="field-static">
                <span>"Depends on"</span>
                <span class="mono">{upstream}</span>
            </div>
            <FieldErrors key field="depends_on"/>
            <label>
                "Env (NAME=value per line)"
                <textarea rows="3" class="mono" prop:value=read(|n| n.env.clone()) on:input=write(|n, v| n.env = v)></textarea>
            </label>
            <FieldErrors key field="env"/>
            <label>
                "Timeout (seconds, blank for none)"
                <input type="text" inputmode="numeric" prop:value=read(|n| n.timeout.clone()) on:input=write(|n, v| n.timeout = v)/>
            </label>
            <FieldErrors key field="timeout"/>
            <fieldset class="branch-fields">
                <legend>"Runs only when"</legend>
                <label>
                    "Gate"
                    <input type="text" placeholder="hitl-gate-<job> before this one" prop:value=read(|n| n.when_gate.clone()) on:input=write(|n, v| n.when_gate = v)/>
                </label>
                <label>
                    "chose option"
                    <input type="text" prop:value=read(|n| n.when_option.clone()) on:input=write(|n, v| n.when_option = v)/>
                </label>
                <p class="help muted">"Blank: always runs. Otherwise the job runs only for that option of the gate, and is skipped (not failed) for any other."</p>
                <FieldErrors key field="when"/>
            </fieldset>
            <fieldset class="hitl-fields">
                <legend>"Human-in-the-Loop"</legend>
                <label>
                    "Gate Message"
                    <textarea rows="3" prop:value=read(|n| n.gate_message.clone()) on:input=write(|n, v| n.gate_message = v)></textarea>
                </label>
                <p class="help muted">"Blank means no gate. With a message, a gate hitl-gate-<job> waits for a person after this job."</p>
                <FieldErrors key field="gate_message"/>
                <label>
                    "Gate Timeout (seconds)"
                    <input type="text" inputmode="numeric" prop:value=read(|n| n.gate_timeout.clone()) on:input=write(|n, v| n.gate_timeout = v)/>
                </label>
                <p class="help muted">
                    {format!("Default {DEFAULT_GATE_TIMEOUT_SECS} seconds = 48 hours; from 1 second to 30 days. When it runs out, the gate fails and everything after it is cancelled.")}
                </p>
                <FieldErrors key field="gate_timeout"/>
                <label>
                    "Approvers"
                    <input type="text" placeholder="anyone with the approver role" prop:value=read(|n| n.gate_approvers.clone()) on:input=write(|n, v| n.gate_approvers = v)/>
                </label>
                <p class="help muted">"Usernames and group:<name>, comma-separated, e.g. ana, group:ml-leads."</p>
                <FieldErrors key field="gate_approvers"/>
                <label>
                    "Approvals needed"
                    <input type="text" inputmode="numeric" placeholder="1" prop:value=read(|n| n.gate_approvals.clone()) on:input=write(|n, v| n.gate_approvals = v)/>
                </label>
                <FieldErrors key field="gate_approvals"/>
                <label class="checkbox">
                    <input
                        type="checkbox"
                        prop:checked=move || editor.draft.with(|d| d.node(key).is_some_and(|n| n.gate_allow_self))
                        on:change=move |event| {
                            let allowed = event_target_checked(&event);
                            editor.update(|d| {
                                if let Some(node) = d.node_mut(key) {
                                    node.gate_allow_self = allowed;
                                }
                            });
                        }
                    />
                    "Deployer may decide too"
                </label>
                <GateFormEditor key/>
                <FieldErrors key field="gate_form"/>
            </fieldset>
        </div>
    }
}
