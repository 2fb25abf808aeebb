use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::*;

/// The server's matcher: the whole value must match (`regex`, anchored).
fn regex(pattern: &str, value: &str) -> Result<bool, String> {
    regex::Regex::new(&format!("^(?:{pattern})$"))
        .map(|re| re.is_match(value))
        .map_err(|error| error.to_string())
}

fn form(yaml_json: Value) -> GateForm {
    serde_json::from_value(yaml_json).expect("a form")
}

fn review() -> GateForm {
    form(json!({
        "options": ["retrain", "ship", "rollback"],
        "inputs": [
            {"name": "threshold", "type": "number", "min": 0, "max": 1, "default": 0.9},
            {"name": "ticket", "type": "string", "required": true, "pattern": "[A-Z]+-[0-9]+"},
            {"name": "notify", "type": "boolean"},
            {"name": "region", "type": "enum", "values": ["eu", "us"]}
        ]
    }))
}

fn given(values: Value) -> BTreeMap<String, Value> {
    serde_json::from_value(values).expect("an object")
}

fn fields(problems: &[FieldProblem]) -> Vec<&str> {
    problems.iter().map(|p| p.field.as_str()).collect()
}

#[test]
fn a_good_choice_comes_back_with_defaults_filled_in() {
    let choice = review()
        .check_choice(
            Some("ship"),
            &given(json!({"ticket": "OPS-12", "region": "eu"})),
            &regex,
        )
        .expect("valid");
    assert_eq!(choice.option.as_deref(), Some("ship"));
    assert_eq!(
        choice.inputs,
        given(json!({"threshold": 0.9, "ticket": "OPS-12", "region": "eu"}))
    );
}

#[test]
fn every_bad_value_is_refused_naming_its_field() {
    let problems = review()
        .check_choice(
            Some("deploy"),
            &given(json!({
                "threshold": 3,
                "ticket": "not a ticket",
                "notify": "yes",
                "region": "asia",
                "colour": "red"
            })),
            &regex,
        )
        .expect_err("invalid");
    assert_eq!(
        fields(&problems),
        [
            "option",
            "colour",
            "threshold",
            "ticket",
            "notify",
            "region"
        ]
    );
    let text: Vec<&str> = problems.iter().map(|p| p.message.as_str()).collect();
    assert_eq!(
        text,
        [
            "`deploy` is not an option of this gate: choose one of retrain, ship, rollback",
            "`colour` is not an input of this gate: its inputs are threshold, ticket, notify, region",
            "input `threshold` must be between 0 and 1",
            "input `ticket` must match the pattern `[A-Z]+-[0-9]+`",
            "input `notify` must be a boolean, not text",
            "input `region` must be one of eu, us",
        ]
    );
}

#[test]
fn a_missing_option_or_required_input_is_named() {
    let problems = review()
        .check_choice(None, &given(json!({})), &regex)
        .expect_err("invalid");
    assert_eq!(fields(&problems), ["option", "ticket"]);
    assert_eq!(
        problems[0].message,
        "choose one of the options: retrain, ship, rollback"
    );
    assert_eq!(
        problems[1].message,
        "input `ticket` is required: give a string"
    );
}

#[test]
fn a_plain_gate_takes_no_option_and_no_inputs() {
    let plain = GateForm::default();
    assert_eq!(
        plain.check_choice(None, &BTreeMap::new(), &regex),
        Ok(GateChoice::default())
    );
    let problems = plain
        .check_choice(Some("ship"), &given(json!({"x": 1})), &regex)
        .expect_err("invalid");
    assert_eq!(fields(&problems), ["option", "x"]);
    assert_eq!(
        problems[1].message,
        "`x` is not an input of this gate: it asks for none"
    );
}

#[test]
fn a_null_value_counts_as_not_given() {
    let choice = review()
        .check_choice(
            Some("retrain"),
            &given(json!({"ticket": "A-1", "threshold": null})),
            &regex,
        )
        .expect("valid");
    assert_eq!(choice.inputs.get("threshold"), Some(&json!(0.9)));
}

#[test]
fn a_nul_character_is_refused() {
    let form = form(json!({"inputs": [{"name": "why", "type": "string"}]}));
    let problems = form
        .check_choice(None, &given(json!({"why": "a\0b"})), &regex)
        .expect_err("refused");
    assert_eq!(
        problems[0].message,
        "input `why` contains a NUL character, which no program can receive: remove it"
    );
}

#[test]
fn string_bounds_count_characters() {
    let short = form(json!({"inputs": [{"name": "why", "type": "string", "min": 3, "max": 5}]}));
    for (text, ok) in [
        ("ab", false),
        ("abc", true),
        ("ééééé", true),
        ("abcdef", false),
    ] {
        let result = short.check_choice(None, &given(json!({"why": text})), &regex);
        assert_eq!(result.is_ok(), ok, "{text}");
    }
}

#[test]
fn a_well_written_form_has_no_problems() {
    assert_eq!(review().problems(), []);
    assert_eq!(review().check_patterns(&regex), []);
}

#[test]
fn a_badly_written_form_is_refused_field_by_field() {
    let bad = form(json!({
        "options": ["ship", "ship", "no spaces"],
        "inputs": [
            {"name": "1st", "type": "string"},
            {"name": "option", "type": "boolean"},
            {"name": "level", "type": "boolean", "min": 1},
            {"name": "range", "type": "number", "min": 5, "max": 1},
            {"name": "size", "type": "string", "min": 1.5},
            {"name": "flag", "type": "number", "pattern": "x"},
            {"name": "pick", "type": "enum"},
            {"name": "twice", "type": "enum", "values": ["a", "a"]},
            {"name": "plain", "type": "string", "values": ["a"]},
            {"name": "Range", "type": "number"},
            {"name": "score", "type": "number", "max": 10, "default": 11}
        ]
    }));
    let problems = bad.problems();
    let text: Vec<&str> = problems.iter().map(|p| p.message.as_str()).collect();
    assert_eq!(
        text,
        [
            "option `ship` is listed twice: list each option once",
            "option `no spaces` is not valid: use 1 to 64 letters, digits, `_` or `-`",
            "input name `1st` is not valid: start with a letter, then use up to 63 letters, digits or `_`",
            "input name `option` is taken by the gate's chosen option: rename the input",
            "input `level` is a boolean: `min` and `max` apply to numbers and strings only",
            "input `range` has `min` 5 above `max` 1",
            "input `size` is a string: its `min` and `max` count characters and must be whole numbers of at least 0",
            "input `flag` is a number: `pattern` applies to strings only",
            "input `pick` is an enum without `values`: list the values to choose from",
            "input `twice` has a blank or repeated value `a`: list each value once",
            "input `plain` is a string: `values` apply to enums only",
            "input `Range` is named twice (names differing only in case count as one: they become the same variable)",
            "the default of input `score` does not fit it: input `score` must be at most 10",
        ]
    );
}

#[test]
fn patterns_that_do_not_compile_or_defaults_that_do_not_match_are_named() {
    let bad = form(json!({"inputs": [
        {"name": "a", "type": "string", "pattern": "(unclosed"},
        {"name": "b", "type": "string", "pattern": "[0-9]+", "default": "abc"}
    ]}));
    let problems = bad.check_patterns(&regex);
    assert_eq!(fields(&problems), ["a", "b"]);
    assert!(
        problems[0]
            .message
            .starts_with("input `a` has a pattern that does not compile:"),
        "{}",
        problems[0].message
    );
    assert_eq!(
        problems[1].message,
        "the default of input `b` does not match its pattern `[0-9]+`"
    );
}

#[test]
fn choices_reach_jobs_as_variables() {
    assert_eq!(
        choice_env_name("train-model", None),
        "TOLLGATE_GATE_TRAIN_MODEL_OPTION"
    );
    assert_eq!(
        choice_env_name("train-model", Some("threshold")),
        "TOLLGATE_GATE_TRAIN_MODEL_THRESHOLD"
    );
    assert_eq!(value_text(&json!("eu")), "eu");
    assert_eq!(value_text(&json!(0.5)), "0.5");
    assert_eq!(value_text(&json!(true)), "true");
}

#[test]
fn a_form_reads_from_yaml_and_refuses_unknown_keys() {
    let yaml = "options: [retrain, ship]\ninputs:\n  - {name: threshold, type: number, min: 0}\n";
    let read: GateForm = serde_saphyr::from_str(yaml).expect("yaml");
    assert_eq!(read.options, ["retrain", "ship"]);
    assert_eq!(read.inputs[0].kind, InputKind::Number);
    let typo = "inputs:\n  - {name: x, type: string, requird: true}\n";
    let error = serde_saphyr::from_str::<GateForm>(typo).expect_err("unknown key");
    assert!(error.to_string().contains("requird"), "{error}");
}

#[test]
fn a_timeout_applies_the_named_option_and_the_defaults() {
    let mut form = review();
    assert_eq!(form.timeout_choice(), None, "fail-closed by default");
    form.inputs[1].required = false;
    form.on_timeout = OnTimeout::Option("ship".into());
    assert_eq!(form.problems(), []);
    assert_eq!(
        form.timeout_choice(),
        Some(GateChoice {
            option: Some("ship".into()),
            inputs: given(json!({"threshold": 0.9})),
        })
    );
}

#[test]
fn a_timeout_default_must_be_possible() {
    let mut form = review();
    form.on_timeout = OnTimeout::Approve;
    let text: Vec<String> = form.problems().into_iter().map(|p| p.message).collect();
    assert_eq!(
        text,
        [
            "the gate has options: name the one a timeout applies with `on_timeout: {option: <name>}` (one of retrain, ship, rollback)",
            "input `ticket` is required and has no default, so a timeout has nothing to apply: give it a default, or use `on_timeout: fail`",
        ]
    );
    form.on_timeout = OnTimeout::Option("deploy".into());
    assert_eq!(
        form.problems()[0].message,
        "`on_timeout` names `deploy`, which is not an option of this gate: choose one of retrain, ship, rollback"
    );
    let plain = GateForm {
        on_timeout: OnTimeout::Option("ship".into()),
        ..Default::default()
    };
    assert_eq!(
        plain.problems()[0].message,
        "`on_timeout` names option `ship` but the gate offers no options: use `on_timeout: approve`"
    );
    let read: GateForm =
        serde_saphyr::from_str("options: [ship]\non_timeout:\n  option: ship\n").expect("yaml");
    assert_eq!(read.on_timeout, OnTimeout::Option("ship".into()));
    let read: GateForm = serde_saphyr::from_str("on_timeout: approve\n").expect("yaml");
    assert_eq!(read.on_timeout, OnTimeout::Approve);
}
