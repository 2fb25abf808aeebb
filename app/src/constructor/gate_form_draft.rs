//! A gate's options, inputs and timeout policy as the Constructor's sidebar edits them:
//! every field kept as typed (a half-typed number is kept and reported, not lost), and
//! read into the pipeline's [`GateForm`] when the draft is checked, previewed or saved.

use serde::{Deserialize, Serialize};
use serde_json::{Number, Value};

use crate::domain::{GateForm, InputKind, InputSpec, OnTimeout, parse_number, value_text};

/// The sidebar's copy of a gate's form.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DraftGateForm {
    /// Option names, comma-separated as typed.
    #[serde(default)]
    pub options: String,
    #[serde(default)]
    pub inputs: Vec<DraftInput>,
    /// Blank for `fail`, `approve`, or the name of the option a timeout applies.
    #[serde(default)]
    pub on_timeout: String,
}

/// One input as typed in the sidebar.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DraftInput {
    pub name: String,
    pub kind: InputKind,
    pub required: bool,
    /// Blank for none.
    pub default: String,
    pub min: String,
    pub max: String,
    pub pattern: String,
    /// An enum's values, comma-separated.
    pub values: String,
}

impl DraftInput {
    /// A new row: a string input with no rules.
    pub fn new(name: String) -> DraftInput {
        DraftInput {
            name,
            kind: InputKind::String,
            required: false,
            default: String::new(),
            min: String::new(),
            max: String::new(),
            pattern: String::new(),
            values: String::new(),
        }
    }
}

impl DraftGateForm {
    /// The sidebar's fields for a saved gate's form.
    pub fn of(form: &GateForm) -> DraftGateForm {
        let text =
            |number: &Option<Number>| number.as_ref().map(Number::to_string).unwrap_or_default();
        DraftGateForm {
            options: form.options.join(", "),
            inputs: form
                .inputs
                .iter()
                .map(|input| DraftInput {
                    name: input.name.clone(),
                    kind: input.kind,
                    required: input.required,
                    default: input.default.as_ref().map(value_text).unwrap_or_default(),
                    min: text(&input.min),
                    max: text(&input.max),
                    pattern: input.pattern.clone().unwrap_or_default(),
                    values: input.values.join(", "),
                })
                .collect(),
            on_timeout: match &form.on_timeout {
                OnTimeout::Fail => String::new(),
                OnTimeout::Approve => "approve".to_string(),
                OnTimeout::Option(name) => name.clone(),
            },
        }
    }

    /// The option names as they will be saved.
    pub fn option_names(&self) -> Vec<String> {
        list(&self.options)
    }

    /// The form the pipeline gets, and what cannot be read at all (the pipeline rules
    /// judge the rest), each naming its input.
    pub fn read(&self) -> (GateForm, Vec<String>) {
        let mut unreadable = Vec::new();
        let inputs = self
            .inputs
            .iter()
            .map(|draft| {
                let mut bound = |text: &str, which: &str| {
                    let text = text.trim();
                    if text.is_empty() {
                        return None;
                    }
                    let number = parse_number(text);
                    if number.is_none() {
                        unreadable.push(format!(
                            "input `{}`: `{which}` is `{text}`, not a number",
                            draft.name
                        ));
                    }
                    number
                };
                let (min, max) = (bound(&draft.min, "min"), bound(&draft.max, "max"));
                let default = default_value(draft).unwrap_or_else(|message| {
                    unreadable.push(message);
                    None
                });
                InputSpec {
                    name: draft.name.trim().to_string(),
                    kind: draft.kind,
                    required: draft.required,
                    default,
                    min,
                    max,
                    pattern: Some(draft.pattern.clone()).filter(|p| !p.is_empty()),
                    values: list(&draft.values),
                }
            })
            .collect();
        let on_timeout = match self.on_timeout.trim() {
            "" | "fail" => OnTimeout::Fail,
            "approve" => OnTimeout::Approve,
            option => OnTimeout::Option(option.to_string()),
        };
        let form = GateForm {
            options: self.option_names(),
            inputs,
            on_timeout,
        };
        (form, unreadable)
    }

    pub fn is_empty(&self) -> bool {
        self.options.trim().is_empty()
            && self.inputs.is_empty()
            && self.on_timeout.trim().is_empty()
    }
}

/// An input's default as its type reads it; blank is none.
fn default_value(draft: &DraftInput) -> Result<Option<Value>, String> {
    let text = draft.default.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let value = match draft.kind {
        InputKind::Number => parse_number(text).map(Value::Number),
        InputKind::Boolean => match text {
            "true" => Some(Value::Bool(true)),
            "false" => Some(Value::Bool(false)),
            _ => None,
        },
        InputKind::String | InputKind::Enum => Some(Value::String(draft.default.clone())),
    };
    match value {
        Some(value) => Ok(Some(value)),
        None => Err(format!(
            "input `{}`: the default `{text}` is not a {}",
            draft.name,
            draft.kind.as_str()
        )),
    }
}

/// Comma-separated names, trimmed, blanks dropped.
fn list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_saved_form_comes_back_the_same() {
        let form: GateForm = serde_json::from_value(json!({
            "options": ["ship", "rollback"],
            "inputs": [
                {"name": "threshold", "type": "number", "min": 0, "max": 1.5, "default": 0.9},
                {"name": "ticket", "type": "string", "required": true, "pattern": "[A-Z]+"},
                {"name": "region", "type": "enum", "values": ["eu", "us"], "default": "eu"},
                {"name": "notify", "type": "boolean", "default": false}
            ],
            "on_timeout": {"option": "ship"}
        }))
        .expect("form");
        let draft = DraftGateForm::of(&form);
        assert_eq!(draft.options, "ship, rollback");
        assert_eq!(draft.on_timeout, "ship");
        assert_eq!(draft.read(), (form, Vec::new()));
    }

    #[test]
    fn what_cannot_be_read_is_named() {
        let mut input = DraftInput::new("threshold".into());
        input.kind = InputKind::Number;
        input.default = "high".into();
        input.max = "1o".into();
        let draft = DraftGateForm {
            inputs: vec![input],
            on_timeout: "approve".into(),
            ..Default::default()
        };
        let (form, unreadable) = draft.read();
        assert_eq!(
            unreadable,
            [
                "input `threshold`: `max` is `1o`, not a number",
                "input `threshold`: the default `high` is not a number",
            ]
        );
        assert_eq!(form.on_timeout, OnTimeout::Approve);
    }
}
