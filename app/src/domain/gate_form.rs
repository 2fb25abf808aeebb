//! What a gate asks of the person who approves it besides yes or no: one of several
//! options, and typed inputs that the jobs after the gate receive (issue 13).
//!
//! Pure rules for both sides: whether a gate's form is well written (at deploy and in
//! the Constructor), and whether the values of a decision fit it (on the server, and in
//! the approval form before it is sent). Every problem names its field, so a person
//! knows what to change. Regular expressions are not evaluated here: the caller passes
//! a matcher (the server's `regex`, the browser's `RegExp`), so this crate carries no
//! regex engine into the browser.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::{Number, Value};

use super::validate::is_safe_identifier;

/// The most options one gate may offer.
pub const MAX_GATE_OPTIONS: usize = 20;

/// The most inputs one gate may ask for.
pub const MAX_GATE_INPUTS: usize = 20;

/// The longest text a person may give for one input: it reaches the jobs as an
/// environment variable, which must stay well under the kernel's limits.
pub const MAX_INPUT_TEXT_BYTES: usize = 4096;

/// The options and inputs of one gate; both empty is a plain yes/no gate.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GateForm {
    /// Names of the choices (`[retrain, ship, rollback]`); approving picks exactly one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    /// Typed fields the approver fills in.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<InputSpec>,
    /// What the gate's timeout means: fail (the default), or go on with defaults.
    #[serde(default, skip_serializing_if = "OnTimeout::is_fail")]
    pub on_timeout: OnTimeout,
}

/// What happens when nobody decides a gate in time. Fail-closed unless the author
/// names a default; a default applied is recorded as the timeout it is, never as a
/// person's approval.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnTimeout {
    /// The gate fails and everything after it is cancelled.
    #[default]
    Fail,
    /// The gate completes with its inputs' defaults (a gate without options).
    Approve,
    /// The gate completes with this option and its inputs' defaults.
    Option(String),
}

impl OnTimeout {
    pub fn is_fail(&self) -> bool {
        *self == OnTimeout::Fail
    }
}

/// One typed field of a gate's form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputSpec {
    /// A letter, then letters, digits or `_` (it becomes part of a variable name).
    pub name: String,
    #[serde(rename = "type")]
    pub kind: InputKind,
    /// Whether approving needs a value (a `default` counts as one).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub required: bool,
    /// Used when the approver gives no value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Value>,
    /// For a number, the smallest value; for a string, the fewest characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<Number>,
    /// For a number, the largest value; for a string, the most characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<Number>,
    /// For a string: a regular expression the whole value must match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// For an enum: the values to choose from.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
}

/// The type of an input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InputKind {
    String,
    Number,
    Boolean,
    Enum,
}

impl InputKind {
    /// The name YAML and JSON use.
    pub fn as_str(self) -> &'static str {
        match self {
            InputKind::String => "string",
            InputKind::Number => "number",
            InputKind::Boolean => "boolean",
            InputKind::Enum => "enum",
        }
    }
}

/// One thing wrong with a form or with a decision's values, naming the field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldProblem {
    /// `option`, or the input's name.
    pub field: String,
    pub message: String,
}

impl FieldProblem {
    fn new(field: &str, message: String) -> FieldProblem {
        FieldProblem {
            field: field.to_string(),
            message,
        }
    }
}

/// What an approval chose: the option (when the gate has options) and every input
/// that has a value, defaults filled in.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GateChoice {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub option: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub inputs: BTreeMap<String, Value>,
}

/// Answers whether `value` matches the regular expression `pattern` as a whole, or why
/// the pattern cannot be used.
pub trait PatternMatcher {
    fn matches(&self, pattern: &str, value: &str) -> Result<bool, String>;
}

impl<F: Fn(&str, &str) -> Result<bool, String>> PatternMatcher for F {
    fn matches(&self, pattern: &str, value: &str) -> Result<bool, String> {
        self(pattern, value)
    }
}

impl GateForm {
    pub fn is_empty(&self) -> bool {
        self.options.is_empty() && self.inputs.is_empty() && self.on_timeout.is_fail()
    }

    /// What a timeout applies: nothing (the gate fails), or the named option with
    /// every input that has a default.
    pub fn timeout_choice(&self) -> Option<GateChoice> {
        let option = match &self.on_timeout {
            OnTimeout::Fail => return None,
            OnTimeout::Approve => None,
            OnTimeout::Option(name) => Some(name.clone()),
        };
        let inputs = self
            .inputs
            .iter()
            .filter_map(|input| Some((input.name.clone(), input.default.clone()?)))
            .collect();
        Some(GateChoice { option, inputs })
    }

    /// Problems with `on_timeout`: a default that names no option of the gate, or that
    /// leaves a required input without a value.
    fn timeout_problems(&self) -> Vec<FieldProblem> {
        let mut problems = Vec::new();
        let mut say = |message: String| problems.push(FieldProblem::new("on_timeout", message));
        match &self.on_timeout {
            OnTimeout::Fail => return problems,
            OnTimeout::Approve if !self.options.is_empty() => say(format!(
                "the gate has options: name the one a timeout applies with `on_timeout: {{option: <name>}}` (one of {})",
                self.options.join(", ")
            )),
            OnTimeout::Option(name) if self.options.is_empty() => say(format!(
                "`on_timeout` names option `{name}` but the gate offers no options: use `on_timeout: approve`"
            )),
            OnTimeout::Option(name) if !self.options.contains(name) => say(format!(
                "`on_timeout` names `{name}`, which is not an option of this gate: choose one of {}",
                self.options.join(", ")
            )),
            _ => {}
        }
        for input in self
            .inputs
            .iter()
            .filter(|i| i.required && i.default.is_none())
        {
            say(format!(
                "input `{}` is required and has no default, so a timeout has nothing to apply: give it a default, or use `on_timeout: fail`",
                input.name
            ));
        }
        problems
    }

    /// Everything wrong with the form as written (not its patterns, which only the
    /// caller's matcher can compile: see [`GateForm::check_patterns`]).
    pub fn problems(&self) -> Vec<FieldProblem> {
        let mut problems = Vec::new();
        if self.options.len() > MAX_GATE_OPTIONS {
            problems.push(FieldProblem::new(
                "options",
                format!(
                    "the gate offers {} options; the limit is {MAX_GATE_OPTIONS}",
                    self.options.len()
                ),
            ));
        }
        let mut seen = HashSet::new();
        for option in &self.options {
            if !is_safe_identifier(option) {
                problems.push(FieldProblem::new(
                    "options",
                    format!(
                        "option `{option}` is not valid: use 1 to 64 letters, digits, `_` or `-`"
                    ),
                ));
            } else if !seen.insert(option.as_str()) {
                problems.push(FieldProblem::new(
                    "options",
                    format!("option `{option}` is listed twice: list each option once"),
                ));
            }
        }
        if self.inputs.len() > MAX_GATE_INPUTS {
            problems.push(FieldProblem::new(
                "inputs",
                format!(
                    "the gate asks for {} inputs; the limit is {MAX_GATE_INPUTS}",
                    self.inputs.len()
                ),
            ));
        }
        let mut names = HashSet::new();
        for input in &self.inputs {
            if !names.insert(input.name.to_ascii_uppercase()) {
                problems.push(FieldProblem::new(
                    &input.name,
                    format!(
                        "input `{}` is named twice (names differing only in case count as one: they become the same variable)",
                        input.name
                    ),
                ));
            }
            problems.extend(input.problems());
        }
        problems.extend(self.timeout_problems());
        problems
    }

    /// Problems with the form's patterns: one that does not compile, or a default that
    /// does not match its pattern.
    pub fn check_patterns(&self, matcher: &impl PatternMatcher) -> Vec<FieldProblem> {
        let mut problems = Vec::new();
        for input in &self.inputs {
            let Some(pattern) = &input.pattern else {
                continue;
            };
            let sample = match &input.default {
                Some(Value::String(text)) => text.as_str(),
                _ => "",
            };
            match matcher.matches(pattern, sample) {
                Err(why) => problems.push(FieldProblem::new(
                    &input.name,
                    format!(
                        "input `{}` has a pattern that does not compile: {why}",
                        input.name
                    ),
                )),
                Ok(false) if input.default.is_some() => problems.push(FieldProblem::new(
                    &input.name,
                    format!(
                        "the default of input `{}` does not match its pattern `{pattern}`",
                        input.name
                    ),
                )),
                Ok(_) => {}
            }
        }
        problems
    }

    /// Checks the values of an approval against the form. Returns what was chosen,
    /// defaults filled in, or every problem, each naming its field.
    pub fn check_choice(
        &self,
        option: Option<&str>,
        given: &BTreeMap<String, Value>,
        matcher: &impl PatternMatcher,
    ) -> Result<GateChoice, Vec<FieldProblem>> {
        let mut problems = Vec::new();
        let option = match (option, self.options.is_empty()) {
            (None, true) => None,
            (Some(chosen), true) => {
                problems.push(FieldProblem::new(
                    "option",
                    format!("this gate offers no options; remove `option` (got `{chosen}`)"),
                ));
                None
            }
            (Some(chosen), false) if self.options.iter().any(|o| o == chosen) => {
                Some(chosen.to_string())
            }
            (chosen, false) => {
                let list = self.options.join(", ");
                let message = match chosen {
                    Some(chosen) => {
                        format!("`{chosen}` is not an option of this gate: choose one of {list}")
                    }
                    None => format!("choose one of the options: {list}"),
                };
                problems.push(FieldProblem::new("option", message));
                None
            }
        };
        for name in given.keys() {
            if !self.inputs.iter().any(|input| &input.name == name) {
                let known: Vec<&str> = self.inputs.iter().map(|i| i.name.as_str()).collect();
                let message = if known.is_empty() {
                    format!("`{name}` is not an input of this gate: it asks for none")
                } else {
                    format!(
                        "`{name}` is not an input of this gate: its inputs are {}",
                        known.join(", ")
                    )
                };
                problems.push(FieldProblem::new(name, message));
            }
        }
        let mut inputs = BTreeMap::new();
        for input in &self.inputs {
            let value = given
                .get(&input.name)
                .filter(|value| !value.is_null())
                .or(input.default.as_ref());
            match value {
                None if input.required => problems.push(FieldProblem::new(
                    &input.name,
                    format!(
                        "input `{}` is required: give a {}",
                        input.name,
                        input.kind.as_str()
                    ),
                )),
                None => {}
                Some(value) => match input.check_value(value, matcher) {
                    Ok(()) => {
                        inputs.insert(input.name.clone(), value.clone());
                    }
                    Err(message) => problems.push(FieldProblem::new(&input.name, message)),
                },
            }
        }
        if problems.is_empty() {
            Ok(GateChoice { option, inputs })
        } else {
            Err(problems)
        }
    }
}

impl InputSpec {
    fn problems(&self) -> Vec<FieldProblem> {
        let name = &self.name;
        let mut problems = Vec::new();
        let mut say = |message: String| problems.push(FieldProblem::new(name, message));
        if !is_input_name(name) {
            say(format!(
                "input name `{name}` is not valid: start with a letter, then use up to 63 letters, digits or `_`"
            ));
        }
        if name.eq_ignore_ascii_case("option") {
            say(format!(
                "input name `{name}` is taken by the gate's chosen option: rename the input"
            ));
        }
        let numeric = matches!(self.kind, InputKind::Number | InputKind::String);
        if !numeric && (self.min.is_some() || self.max.is_some()) {
            say(format!(
                "input `{name}` is a {}: `min` and `max` apply to numbers and strings only",
                self.kind.as_str()
            ));
        }
        if let (Some(min), Some(max)) = (number(&self.min), number(&self.max))
            && min > max
        {
            say(format!("input `{name}` has `min` {min} above `max` {max}"));
        }
        if self.kind == InputKind::String {
            for bound in [&self.min, &self.max].into_iter().flatten() {
                if bound.as_u64().is_none() {
                    say(format!(
                        "input `{name}` is a string: its `min` and `max` count characters and must be whole numbers of at least 0"
                    ));
                }
            }
        }
        if self.pattern.is_some() && self.kind != InputKind::String {
            say(format!(
                "input `{name}` is a {}: `pattern` applies to strings only",
                self.kind.as_str()
            ));
        }
        match (self.kind, self.values.is_empty()) {
            (InputKind::Enum, true) => say(format!(
                "input `{name}` is an enum without `values`: list the values to choose from"
            )),
            (InputKind::Enum, false) => {
                let mut seen = HashSet::new();
                for value in &self.values {
                    if value.trim().is_empty() || !seen.insert(value.as_str()) {
                        say(format!(
                            "input `{name}` has a blank or repeated value `{value}`: list each value once"
                        ));
                    }
                }
            }
            (_, false) => say(format!(
                "input `{name}` is a {}: `values` apply to enums only",
                self.kind.as_str()
            )),
            (_, true) => {}
        }
        if let Some(default) = &self.default
            && let Err(message) = self.check_value(default, &|_: &str, _: &str| Ok(true))
        {
            say(format!(
                "the default of input `{name}` does not fit it: {message}"
            ));
        }
        problems
    }

    /// Whether `value` fits this input; the message names the input and says what fits.
    fn check_value(&self, value: &Value, matcher: &impl PatternMatcher) -> Result<(), String> {
        let name = &self.name;
        match (self.kind, value) {
            (InputKind::String, Value::String(text)) => {
                // A job receives the value as an environment variable, which cannot
                // hold a NUL byte: the job could not even start.
                if text.contains('\0') {
                    return Err(format!(
                        "input `{name}` contains a NUL character, which no program can receive: remove it"
                    ));
                }
                if text.len() > MAX_INPUT_TEXT_BYTES {
                    return Err(format!(
                        "input `{name}` is {} bytes long; the limit is {MAX_INPUT_TEXT_BYTES}",
                        text.len()
                    ));
                }
                let chars = text.chars().count() as f64;
                if let Some(min) = number(&self.min).filter(|min| chars < *min) {
                    return Err(format!("input `{name}` needs at least {min} characters"));
                }
                if let Some(max) = number(&self.max).filter(|max| chars > *max) {
                    return Err(format!("input `{name}` takes at most {max} characters"));
                }
                if let Some(pattern) = &self.pattern {
                    match matcher.matches(pattern, text) {
                        Ok(true) => {}
                        Ok(false) => {
                            return Err(format!(
                                "input `{name}` must match the pattern `{pattern}`"
                            ));
                        }
                        Err(why) => {
                            return Err(format!(
                                "input `{name}` has a pattern that does not compile: {why}"
                            ));
                        }
                    }
                }
                Ok(())
            }
            (InputKind::Number, Value::Number(given)) => {
                let given = given.as_f64().unwrap_or(f64::NAN);
                let min = number(&self.min);
                let max = number(&self.max);
                let inside =
                    min.is_none_or(|min| given >= min) && max.is_none_or(|max| given <= max);
                if inside {
                    return Ok(());
                }
                Err(match (min, max) {
                    (Some(min), Some(max)) => {
                        format!("input `{name}` must be between {min} and {max}")
                    }
                    (Some(min), None) => format!("input `{name}` must be at least {min}"),
                    (_, _) => format!("input `{name}` must be at most {}", max.unwrap_or_default()),
                })
            }
            (InputKind::Boolean, Value::Bool(_)) => Ok(()),
            (InputKind::Enum, Value::String(text)) if self.values.contains(text) => Ok(()),
            (InputKind::Enum, _) => Err(format!(
                "input `{name}` must be one of {}",
                self.values.join(", ")
            )),
            (kind, other) => Err(format!(
                "input `{name}` must be a {}, not {}",
                kind.as_str(),
                describe(other)
            )),
        }
    }
}

/// The environment variable that carries a gate's chosen option (`field` is `None`) or
/// one of its inputs to the jobs after it: `TOLLGATE_GATE_<SOURCE>_OPTION`,
/// `TOLLGATE_GATE_<SOURCE>_<FIELD>`, upper case, `-` written as `_`.
pub fn choice_env_name(source: &str, field: Option<&str>) -> String {
    let part = |text: &str| text.to_ascii_uppercase().replace('-', "_");
    format!(
        "TOLLGATE_GATE_{}_{}",
        part(source),
        field.map_or_else(|| "OPTION".to_string(), part)
    )
}

/// An input's value as text, as a job reads it from its environment and a form field
/// shows it: text as it is, numbers and booleans as JSON writes them.
pub fn value_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// A number typed by a person: a whole number stays whole (`3`, not `3.0`); `None` if
/// it is not a number at all.
pub fn parse_number(text: &str) -> Option<Number> {
    let text = text.trim();
    match text.parse::<i64>() {
        Ok(integer) => Some(Number::from(integer)),
        Err(_) => text.parse::<f64>().ok().and_then(Number::from_f64),
    }
}

fn is_input_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    name.len() <= 64
        && bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn number(bound: &Option<Number>) -> Option<f64> {
    bound.as_ref().and_then(Number::as_f64)
}

fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "nothing",
        Value::Bool(_) => "true or false",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests;
