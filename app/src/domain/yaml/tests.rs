use std::collections::BTreeMap;

use super::*;

fn job(id: &str, run: &str) -> JobSpec {
    JobSpec {
        id: id.into(),
        run: run.into(),
        depends_on: Vec::new(),
        env: BTreeMap::new(),
        timeout: None,
        gate: None,
        when: None,
        network: None,
    }
}

fn reads_back(pipeline: &Pipeline) {
    let yaml = to_yaml(pipeline);
    assert_eq!(
        Pipeline::parse(&yaml).as_ref(),
        Ok(pipeline),
        "written as:\n{yaml}"
    );
}

#[test]
fn the_sample_reads_well() {
    let mut preprocess = job("preprocess", "echo \"rows: 1000\" > report.txt\nsleep 2\n");
    preprocess.gate = Some(GateSpec {
        message: "Review data quality report before training begins".into(),
        timeout: Some(300),
        approvers: vec!["group:ml-leads".into(), "alice".into()],
        approvals: Some(2),
        allow_self_approval: true,
        ..Default::default()
    });
    let mut train = job("train", "echo training");
    train.depends_on = vec!["preprocess".into()];
    train.env.insert("EPOCHS".into(), "3".into());
    train.timeout = Some(600);
    let pipeline = Pipeline {
        name: "review-workflow".into(),
        notify: Vec::new(),
        jobs: vec![preprocess, train],
    };
    assert_eq!(
        to_yaml(&pipeline),
        "name: review-workflow
jobs:
  - id: preprocess
    run: |
      echo \"rows: 1000\" > report.txt
      sleep 2
    gate:
      message: Review data quality report before training begins
      timeout: 300
      approvers:
        - group:ml-leads
        - alice
      approvals: 2
      allow_self_approval: true
  - id: train
    run: echo training
    depends_on:
      - preprocess
    env:
      EPOCHS: \"3\"
    timeout: 600
"
    );
    reads_back(&pipeline);
}

#[test]
fn no_jobs_is_an_empty_list() {
    let pipeline = Pipeline {
        name: "p".into(),
        notify: Vec::new(),
        jobs: Vec::new(),
    };
    assert_eq!(to_yaml(&pipeline), "name: p\njobs: []\n");
    reads_back(&pipeline);
}

#[test]
fn awkward_text_reads_back_as_itself() {
    let awkward = [
        "",
        " ",
        "true",
        "No",
        "null",
        "~",
        "123",
        "0x1F",
        "1e3",
        ".inf",
        "-",
        "- item",
        "a: b",
        "a:",
        "a #b",
        "#comment",
        "'single'",
        "\"double\"",
        "back\\slash",
        "tab\there",
        "{braces}",
        "[list]",
        "&anchor",
        "*alias",
        "!tag",
        "%directive",
        "@at",
        "`tick",
        "|",
        ">",
        "?",
        "trailing ",
        " leading",
        "group:ml-leads",
        "2026-11-27",
        "line\n",
        "line",
        "two\nlines",
        "ends with breaks\n\n\n",
        "\nstarts with a break",
        "  indented first\nline",
        "a\n   \nspaces-only line",
        "a\n\tb\n",
        "crlf\r\nline",
        "bell\u{7}",
        "nel\u{85}x",
        "sep\u{2028}x",
        "bom\u{feff}",
        "unicodé ✓ 😀",
        "---",
        "...",
        "a\n---\nb\n",
        "a\n...\nb",
        "# not a comment\n  indented\n",
    ];
    for text in awkward {
        let mut spec = job("j", text);
        spec.depends_on = vec![text.to_string()];
        spec.env.insert(text.to_string(), text.to_string());
        spec.gate = Some(GateSpec {
            message: text.into(),
            approvers: vec![text.into()],
            ..GateSpec::default()
        });
        reads_back(&Pipeline {
            name: text.into(),
            notify: Vec::new(),
            jobs: vec![spec],
        });
    }
}

#[test]
fn a_long_key_takes_the_explicit_form() {
    let name = "K".repeat(2000);
    let mut spec = job("j", "x");
    spec.env.insert(name.clone(), "v".into());
    spec.env.insert("\u{1}".repeat(300), "w\nx".into());
    let pipeline = Pipeline {
        name: "p".into(),
        notify: Vec::new(),
        jobs: vec![spec],
    };
    assert!(to_yaml(&pipeline).contains(&format!("? \"{name}\"\n      : v")));
    reads_back(&pipeline);
}

#[test]
fn a_gate_form_reads_back_as_written() {
    let form: crate::domain::GateForm = serde_json::from_value(serde_json::json!({
        "options": ["retrain", "ship", "true"],
        "inputs": [
            {"name": "threshold", "type": "number", "min": 0, "max": 1.5, "default": 0.9},
            {"name": "ticket", "type": "string", "required": true, "pattern": "[A-Z]+-[0-9]+: x"},
            {"name": "note", "type": "string", "default": "42"},
            {"name": "notify", "type": "boolean", "default": false},
            {"name": "region", "type": "enum", "values": ["eu", "no"], "default": "eu"}
        ]
    }))
    .expect("a form");
    let mut gated = job("train", "echo train");
    gated.gate = Some(GateSpec {
        message: "Pick what happens next".into(),
        options: form.options,
        inputs: form.inputs,
        on_timeout: crate::domain::OnTimeout::Option("true".into()),
        ..Default::default()
    });
    let pipeline = Pipeline {
        name: "p".into(),
        notify: Vec::new(),
        jobs: vec![gated],
    };
    reads_back(&pipeline);
    let yaml = to_yaml(&pipeline);
    assert!(
        yaml.contains("      options:\n        - retrain\n"),
        "{yaml}"
    );
    assert!(
        yaml.contains("        - name: threshold\n          type: number\n          default: 0.9\n          min: 0\n          max: 1.5\n"),
        "{yaml}"
    );
}

#[test]
fn a_branch_is_written_and_reads_back() {
    let mut ship = job("ship", "echo ship");
    ship.depends_on = vec!["review".into()];
    ship.when = Some(crate::domain::When {
        gate: "hitl-gate-review".into(),
        option: "ship: now".into(),
    });
    let pipeline = Pipeline {
        name: "p".into(),
        notify: Vec::new(),
        jobs: vec![ship],
    };
    assert_eq!(
        to_yaml(&pipeline),
        "name: p\njobs:\n  - id: ship\n    run: echo ship\n    depends_on:\n      - review\n    when:\n      gate: hitl-gate-review\n      option: \"ship: now\"\n"
    );
    reads_back(&pipeline);
}

#[test]
fn the_pipelines_webhooks_are_written_and_read_back() {
    let pipeline = Pipeline {
        name: "p".into(),
        notify: vec!["https://hooks.example.com/t?a=1&b=2".into()],
        jobs: vec![job("a", "true")],
    };
    assert_eq!(
        to_yaml(&pipeline),
        "name: p\nnotify:\n  - https://hooks.example.com/t?a=1&b=2\njobs:\n  - id: a\n    run: \"true\"\n"
    );
    reads_back(&pipeline);
}
