//! A gate's options and inputs as a small form (in the approval banner): what the
//! approver picks and types, turned into the `option` and `inputs` of the decision.
//! The server checks the values; its messages are shown next to their fields.

use std::collections::BTreeMap;

use leptos::prelude::*;
use serde_json::{Number, Value};

use crate::domain::{
    FieldProblem, GateForm, InputKind, InputSpec, OnTimeout, parse_number, value_text,
};

/// What the approver has entered so far: the option, and each input as typed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FormValues {
    pub option: Option<String>,
    /// By input name; a boolean is `"true"` or `"false"`.
    pub inputs: BTreeMap<String, String>,
}

impl FormValues {
    /// The form as it first appears: each input at its default, no option chosen.
    pub fn of(form: &GateForm) -> FormValues {
        let inputs = form
            .inputs
            .iter()
            .filter_map(|input| Some((input.name.clone(), value_text(input.default.as_ref()?))))
            .collect();
        FormValues {
            option: None,
            inputs,
        }
    }

    /// The decision's `option` and `inputs`. A blank field is left out (the server
    /// fills in its default or says it is required); a number that does not read as
    /// one is sent as typed, so the server's message names the field.
    pub fn to_request(&self, form: &GateForm) -> (Option<String>, BTreeMap<String, Value>) {
        let inputs = form
            .inputs
            .iter()
            .filter_map(|input| {
                let text = self.inputs.get(&input.name)?;
                let value = match input.kind {
                    InputKind::Boolean => Value::Bool(text == "true"),
                    _ if text.trim().is_empty() => return None,
                    InputKind::Number => parse_number(text)
                        .map_or_else(|| Value::String(text.clone()), Value::Number),
                    InputKind::String | InputKind::Enum => Value::String(text.clone()),
                };
                Some((input.name.clone(), value))
            })
            .collect();
        (self.option.clone(), inputs)
    }
}

/// The form's fields. `problems` are the server's refusals of the last attempt.
#[component]
pub fn GateFormFields(
    form: GateForm,
    values: RwSignal<FormValues>,
    #[prop(into)] problems: Signal<Vec<FieldProblem>>,
) -> impl IntoView {
    let said = move |field: &'static str| {
        move || {
            problems.with(|all| {
                all.iter()
                    .find(|p| p.field == field)
                    .map(|p| view! { <p class="field-error" role="alert">{p.message.clone()}</p> })
            })
        }
    };
    // Each form's radio buttons are a group of their own (the inbox shows several forms).
    let group = {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static FORMS: AtomicUsize = AtomicUsize::new(0);
        format!("gate-option-{}", FORMS.fetch_add(1, Ordering::Relaxed))
    };
    let options = (!form.options.is_empty()).then(|| {
        let choices = form
            .options
            .iter()
            .map(|option| {
                let (value, shown) = (option.clone(), option.clone());
                let chosen = {
                    let option = option.clone();
                    move || values.with(|v| v.option.as_deref() == Some(option.as_str()))
                };
                view! {
                    <label class="gate-option">
                        <input
                            type="radio"
                            name=group.clone()
                            prop:checked=chosen
                            on:change=move |_| values.update(|v| v.option = Some(value.clone()))
                        />
                        <span>{shown}</span>
                    </label>
                }
            })
            .collect_view();
        view! {
            <fieldset class="gate-options">
                <legend>"Option"</legend>
                {choices}
                {said("option")}
            </fieldset>
        }
    });
    // Said before anyone decides, so nobody is surprised by what a timeout does.
    let at_timeout = match &form.on_timeout {
        OnTimeout::Fail => None,
        OnTimeout::Approve => {
            Some("If nobody decides in time, the gate goes on with the defaults.".to_string())
        }
        OnTimeout::Option(option) => Some(format!(
            "If nobody decides in time, the gate goes on with option {option} and the defaults."
        )),
    };
    let inputs = form
        .inputs
        .into_iter()
        .map(|input| view! { <InputField input values problems/> })
        .collect_view();
    view! {
        <div class="gate-form">
            {options}
            {inputs}
            {at_timeout.map(|text| view! { <p class="muted gate-timeout-policy">{text}</p> })}
        </div>
    }
}

/// One input, as the control its type calls for.
#[component]
fn InputField(
    input: InputSpec,
    values: RwSignal<FormValues>,
    problems: Signal<Vec<FieldProblem>>,
) -> impl IntoView {
    let name = input.name.clone();
    let current = {
        let name = name.clone();
        move || values.with(|v| v.inputs.get(&name).cloned().unwrap_or_default())
    };
    let set = {
        let name = name.clone();
        move |text: String| {
            values.update(|v| {
                v.inputs.insert(name.clone(), text);
            })
        }
    };
    let refused = {
        let name = name.clone();
        move || {
            problems.with(|all| {
                all.iter()
                    .find(|p| p.field == name)
                    .map(|p| p.message.clone())
            })
        }
    };
    let invalid = {
        let refused = refused.clone();
        move || refused().is_some().to_string()
    };
    let label = if input.required {
        format!("{} (required)", input.name)
    } else {
        input.name.clone()
    };
    let bound = |n: &Option<Number>| n.as_ref().map(Number::to_string);
    let control = match input.kind {
        InputKind::Boolean => {
            let set = set.clone();
            let checked = current.clone();
            view! {
                <input
                    type="checkbox"
                    aria-invalid=invalid
                    prop:checked=move || checked() == "true"
                    on:change=move |event| set(event_target_checked(&event).to_string())
                />
            }
            .into_any()
        }
        InputKind::Enum => {
            let set = set.clone();
            let choices = input
                .values
                .iter()
                .map(|value| {
                    let (shown, value, chosen) = (value.clone(), value.clone(), value.clone());
                    let current = current.clone();
                    view! { <option value=value prop:selected=move || current() == chosen>{shown}</option> }
                })
                .collect_view();
            view! {
                <select
                    aria-invalid=invalid
                    on:change=move |event| set(event_target_value(&event))
                >
                    <option value="">"—"</option>
                    {choices}
                </select>
            }
            .into_any()
        }
        InputKind::Number => {
            let set = set.clone();
            view! {
                <input
                    type="number"
                    step="any"
                    min=bound(&input.min)
                    max=bound(&input.max)
                    aria-invalid=invalid
                    prop:value=current
                    on:input=move |event| set(event_target_value(&event))
                />
            }
            .into_any()
        }
        InputKind::String => {
            let set = set.clone();
            view! {
                <input
                    type="text"
                    aria-invalid=invalid
                    prop:value=current
                    on:input=move |event| set(event_target_value(&event))
                />
            }
            .into_any()
        }
    };
    view! {
        <label class="gate-input">
            <span class="muted">{label}</span>
            {control}
            {move || refused().map(|message| view! { <span class="field-error" role="alert">{message}</span> })}
        </label>
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn form() -> GateForm {
        serde_json::from_value(json!({
            "options": ["ship", "rollback"],
            "inputs": [
                {"name": "threshold", "type": "number", "default": 0.9},
                {"name": "count", "type": "number"},
                {"name": "ticket", "type": "string"},
                {"name": "notify", "type": "boolean"},
                {"name": "region", "type": "enum", "values": ["eu"]}
            ]
        }))
        .expect("form")
    }

    #[test]
    fn a_new_form_starts_at_the_defaults() {
        let values = FormValues::of(&form());
        assert_eq!(values.option, None);
        assert_eq!(
            values.inputs.get("threshold").map(String::as_str),
            Some("0.9")
        );
        assert_eq!(values.inputs.len(), 1);
    }

    #[test]
    fn values_are_sent_typed_and_blanks_left_out() {
        let mut values = FormValues::of(&form());
        values.option = Some("ship".into());
        for (name, text) in [
            ("count", "3"),
            ("ticket", " "),
            ("notify", "true"),
            ("region", "eu"),
        ] {
            values.inputs.insert(name.into(), text.into());
        }
        let (option, inputs) = values.to_request(&form());
        assert_eq!(option.as_deref(), Some("ship"));
        assert_eq!(
            serde_json::to_value(&inputs).expect("json"),
            json!({"threshold": 0.9, "count": 3, "notify": true, "region": "eu"})
        );
        values.inputs.insert("count".into(), "many".into());
        let (_, inputs) = values.to_request(&form());
        assert_eq!(inputs.get("count"), Some(&json!("many")), "sent as typed");
    }
}
