//! The sidebar's editor of a gate's options, inputs and timeout policy (issue 13). Every
//! field writes the draft as typed; the YAML preview and the pipeline rules follow.

use leptos::prelude::*;

use super::Editor;
use crate::constructor::{DraftGateForm, DraftInput};
use crate::domain::InputKind;

const KINDS: [InputKind; 4] = [
    InputKind::String,
    InputKind::Number,
    InputKind::Boolean,
    InputKind::Enum,
];

#[component]
pub fn GateFormEditor(key: u32) -> impl IntoView {
    let editor = expect_context::<Editor>();
    let form = move || {
        editor
            .draft
            .with(|d| d.node(key).map(|n| n.gate_form.clone()))
            .unwrap_or_default()
    };
    let change = move |edit: Box<dyn FnOnce(&mut DraftGateForm)>| {
        editor.update(|d| {
            if let Some(node) = d.node_mut(key) {
                edit(&mut node.gate_form);
            }
        });
    };
    let timeout_choices = move || {
        let options = form().option_names();
        let mut choices = vec![(String::new(), "fail (default)".to_string())];
        if options.is_empty() {
            choices.push(("approve".into(), "go on with the defaults".into()));
        }
        choices.extend(
            options
                .into_iter()
                .map(|option| (option.clone(), format!("go on with {option}"))),
        );
        choices
            .into_iter()
            .map(|(value, shown)| {
                let chosen = value.clone();
                view! {
                    <option value=value prop:selected=move || form().on_timeout.trim() == chosen>
                        {shown}
                    </option>
                }
            })
            .collect_view()
    };
    let rows = move || {
        (0..form().inputs.len())
            .map(|at| view! { <InputRow key at/> })
            .collect_view()
    };
    view! {
        <label>
            "Gate Options"
            <input
                type="text"
                placeholder="none: approve or reject"
                prop:value=move || form().options
                on:input=move |event| {
                    let text = event_target_value(&event);
                    change(Box::new(move |f| f.options = text));
                }
            />
        </label>
        <p class="help muted">"Comma-separated, e.g. retrain, ship, rollback: the approver picks one."</p>
        <div class="gate-inputs" role="group" aria-label="Gate Inputs">
            <span>"Gate Inputs"</span>
            {rows}
            <button
                class="button small"
                on:click=move |_| {
                    let name = format!("input{}", form().inputs.len() + 1);
                    change(Box::new(move |f| f.inputs.push(DraftInput::new(name))));
                }
            >
                "Add input"
            </button>
        </div>
        <label>
            "On Timeout"
            <select on:change=move |event| {
                let value = event_target_value(&event);
                change(Box::new(move |f| f.on_timeout = value));
            }>
                {timeout_choices}
            </select>
        </label>
    }
}

/// One input of the gate: its name, type, whether it is required, and its rules.
#[component]
fn InputRow(key: u32, at: usize) -> impl IntoView {
    let editor = expect_context::<Editor>();
    let input = move || {
        editor.draft.with(|d| {
            d.node(key)
                .and_then(|n| n.gate_form.inputs.get(at).cloned())
        })
    };
    let edit = move |apply: Box<dyn FnOnce(&mut DraftInput)>| {
        editor.update(|d| {
            if let Some(input) = d.node_mut(key).and_then(|n| n.gate_form.inputs.get_mut(at)) {
                apply(input);
            }
        });
    };
    let text = move |label: &'static str,
                     get: fn(&DraftInput) -> String,
                     set: fn(&mut DraftInput, String)| {
        view! {
            <label>
                {label}
                <input
                    type="text"
                    aria-label=format!("Input {} {label}", at + 1)
                    prop:value=move || input().map(|i| get(&i)).unwrap_or_default()
                    on:input=move |event| {
                        let value = event_target_value(&event);
                        edit(Box::new(move |i| set(i, value)));
                    }
                />
            </label>
        }
    };
    let kind = move || input().map_or(InputKind::String, |i| i.kind);
    view! {
        <fieldset class="gate-input-row">
            <legend>{format!("Input {}", at + 1)}</legend>
            {text("name", |i| i.name.clone(), |i, v| i.name = v)}
            <label>
                "type"
                <select
                    aria-label=format!("Input {} type", at + 1)
                    on:change=move |event| {
                        let chosen = event_target_value(&event);
                        let kind = KINDS.into_iter().find(|k| k.as_str() == chosen);
                        if let Some(kind) = kind {
                            edit(Box::new(move |i| i.kind = kind));
                        }
                    }
                >
                    {KINDS
                        .into_iter()
                        .map(|k| view! {
                            <option value=k.as_str() prop:selected=move || kind() == k>{k.as_str()}</option>
                        })
                        .collect_view()}
                </select>
            </label>
            <label class="checkbox">
                <input
                    type="checkbox"
                    aria-label=format!("Input {} required", at + 1)
                    prop:checked=move || input().is_some_and(|i| i.required)
                    on:change=move |event| {
                        let required = event_target_checked(&event);
                        edit(Box::new(move |i| i.required = required));
                    }
                />
                "required"
            </label>
            {text("default", |i| i.default.clone(), |i, v| i.default = v)}
            {move || {
                matches!(kind(), InputKind::Number | InputKind::String)
                    .then(|| view! {
                        {text("min", |i| i.min.clone(), |i, v| i.min = v)}
                        {text("max", |i| i.max.clone(), |i, v| i.max = v)}
                    })
            }}
            {move || {
                (kind() == InputKind::String)
                    .then(|| text("pattern", |i| i.pattern.clone(), |i, v| i.pattern = v))
            }}
            {move || {
                (kind() == InputKind::Enum)
                    .then(|| text("values", |i| i.values.clone(), |i, v| i.values = v))
            }}
            <button
                class="button small"
                aria-label=format!("Remove input {}", at + 1)
                on:click=move |_| {
                    editor.update(|d| {
                        if let Some(node) = d.node_mut(key)
                            && at < node.gate_form.inputs.len()
                        {
                            node.gate_form.inputs.remove(at);
                        }
                    });
                }
            >
                "Remove"
            </button>
        </fieldset>
    }
}
