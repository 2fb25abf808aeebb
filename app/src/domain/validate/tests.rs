use super::*;
use crate::domain::pipeline::Pipeline;
use crate::domain::test_support::{gated, job, pipeline};

/// The messages of every error, so a test reads like what a person sees.
fn messages(pipeline: &Pipeline) -> Vec<String> {
    match validate(pipeline) {
        Ok(()) => Vec::new(),
        Err(errors) => errors.0.iter().map(ToString::to_string).collect(),
    }
}

fn only_message(pipeline: &Pipeline) -> String {
    let all = messages(pipeline);
    assert_eq!(all.len(), 1, "expected exactly one error, got {all:#?}");
    all.into_iter().next().unwrap_or_default()
}

#[test]
fn the_review_workflow_is_valid() {
    let p = pipeline(vec![
        gated("preprocess", &[], "Review the report", Some(300)),
        job("train", &["preprocess"]),
        job("evaluate", &["train"]),
    ]);
    assert_eq!(validate(&p), Ok(()));
}

#[test]
fn empty_pipeline() {
    assert_eq!(
        only_message(&pipeline(vec![])),
        "the pipeline has no jobs: add at least one job with an `id` and a `run` command"
    );
}

#[test]
fn duplicate_job_id_is_reported_once() {
    let p = pipeline(vec![job("a", &[]), job("a", &[]), job("a", &[])]);
    assert_eq!(
        only_message(&p),
        "job id `a` is used by 3 jobs: give each job its own id"
    );
}

#[test]
fn bad_job_ids() {
    for bad in [
        "",
        "has space",
        "dot.ted",
        "slash/y",
        "ünï",
        &"x".repeat(65),
    ] {
        let p = pipeline(vec![job(bad, &[])]);
        assert_eq!(
            only_message(&p),
            format!("job id `{bad}` is not valid: use 1 to 64 letters, digits, `_` or `-`")
        );
    }
    let ok = pipeline(vec![job(&"x".repeat(64), &[]), job("A-b_9", &[])]);
    assert_eq!(validate(&ok), Ok(()));
}

#[test]
fn unknown_dependency() {
    let p = pipeline(vec![job("train", &["prepare"])]);
    assert_eq!(
        only_message(&p),
        "job `train` depends on `prepare`, which is not a job of this pipeline: add a job `prepare` or remove it from `depends_on`"
    );
}

#[test]
fn self_dependency() {
    let p = pipeline(vec![job("a", &["a"])]);
    assert_eq!(
        only_message(&p),
        "job `a` depends on itself: remove `a` from its `depends_on`"
    );
}

#[test]
fn two_job_cycle_is_printed() {
    let p = pipeline(vec![job("a", &["b"]), job("b", &["a"])]);
    assert_eq!(
        only_message(&p),
        "jobs depend on each other in a cycle: a -> b -> a; remove one of these dependencies"
    );
}

#[test]
fn longer_cycle_is_printed_in_run_order() {
    // c runs after b, b after a, a after c.
    let p = pipeline(vec![
        job("start", &[]),
        job("a", &["start", "c"]),
        job("b", &["a"]),
        job("c", &["b"]),
        job("end", &["c"]),
    ]);
    let errors = validate(&p).expect_err("cycle");
    assert_eq!(
        errors.0,
        vec![ValidationError::Cycle {
            cycle: vec!["a".into(), "b".into(), "c".into(), "a".into()]
        }]
    );
}

#[test]
fn separate_cycles_are_each_reported() {
    let p = pipeline(vec![
        job("a", &["b"]),
        job("b", &["a"]),
        job("x", &["y"]),
        job("y", &["x"]),
    ]);
    let all = messages(&p);
    assert_eq!(all.len(), 2, "{all:#?}");
    assert!(all[0].contains("a -> b -> a"), "{}", all[0]);
    assert!(all[1].contains("x -> y -> x"), "{}", all[1]);
}

#[test]
fn empty_run() {
    let mut blank = job("a", &[]);
    blank.run = "  \n ".to_string();
    assert_eq!(
        only_message(&pipeline(vec![blank])),
        "job `a` has an empty `run`: give it a shell command or script"
    );
}

#[test]
fn gate_timeout_range() {
    for bad in [0, MAX_GATE_TIMEOUT_SECS + 1] {
        let p = pipeline(vec![gated("a", &[], "check", Some(bad))]);
        assert_eq!(
            only_message(&p),
            format!("job `a` has gate timeout {bad} s: use 1 to 2592000 seconds (30 days)")
        );
    }
    for good in [1, MAX_GATE_TIMEOUT_SECS] {
        let p = pipeline(vec![gated("a", &[], "check", Some(good))]);
        assert_eq!(validate(&p), Ok(()));
    }
}

#[test]
fn blank_gate_message_with_a_timeout_is_rejected() {
    let p = pipeline(vec![gated("a", &[], "   ", Some(60))]);
    assert_eq!(
        only_message(&p),
        "job `a` sets a gate timeout but its gate message is blank, so no gate would be injected: write a gate message, or remove the timeout"
    );
    // A blank message and no timeout simply means "no gate".
    assert_eq!(validate(&pipeline(vec![gated("a", &[], "", None)])), Ok(()));
}

#[test]
fn job_id_colliding_with_an_injected_gate() {
    let p = pipeline(vec![
        gated("train", &[], "check", None),
        job("hitl-gate-train", &["train"]),
    ]);
    assert_eq!(
        only_message(&p),
        "job id `hitl-gate-train` is the id of the gate Tollgate injects after job `train`: rename the job"
    );
}

#[test]
fn gate_prefix_is_reserved_even_without_a_collision() {
    let p = pipeline(vec![job("hitl-gate-x", &[])]);
    assert_eq!(
        only_message(&p),
        "job id `hitl-gate-x` starts with `hitl-gate-`, which is kept for injected gates: rename the job"
    );
}

#[test]
fn unsafe_pipeline_name() {
    for bad in ["", "my pipeline", "../etc", &"n".repeat(65)] {
        let p = Pipeline {
            name: bad.to_string(),
            notify: Vec::new(),
            jobs: vec![job("a", &[])],
        };
        assert_eq!(
            only_message(&p),
            format!(
                "pipeline name `{bad}` is not a safe identifier: use 1 to 64 letters, digits, `_` or `-`"
            )
        );
    }
}

#[test]
fn zero_job_timeout() {
    let mut zero = job("a", &[]);
    zero.timeout = Some(0);
    assert_eq!(
        only_message(&pipeline(vec![zero])),
        "job `a` has `timeout: 0`: use at least 1 second, or remove the timeout"
    );
}

#[test]
fn env_names() {
    let mut bad = job("a", &[]);
    bad.env.insert("1X".into(), "v".into());
    bad.env.insert("TOLLGATE_RUN_ID".into(), "v".into());
    bad.env.insert("GOOD_1".into(), "v".into());
    assert_eq!(
        messages(&pipeline(vec![bad])),
        vec![
            "job `a` sets env `1X`, which is not a valid variable name: use letters, digits and `_`, not starting with a digit",
            "job `a` sets env `TOLLGATE_RUN_ID`: names starting with `TOLLGATE_` are set by Tollgate",
        ]
    );
}

#[test]
fn every_error_is_reported_at_once() {
    let mut empty = job("b", &["missing"]);
    empty.run = String::new();
    let p = Pipeline {
        name: "bad name".into(),
        notify: Vec::new(),
        jobs: vec![
            job("a", &["a"]),
            empty,
            gated("c", &[], "ok", Some(0)),
            job("c", &[]),
        ],
    };
    let errors = validate(&p).expect_err("many problems").0;
    let jobs: Vec<Option<&str>> = errors.iter().map(ValidationError::job).collect();
    assert_eq!(
        jobs,
        vec![None, Some("a"), Some("b"), Some("b"), Some("c"), Some("c")],
        "{errors:#?}"
    );
    let text = ValidationErrors(errors).to_string();
    assert!(
        text.starts_with("the pipeline has 6 problems:\n- "),
        "{text}"
    );
}

fn with_rules(approvers: &[&str], approvals: Option<u32>) -> Pipeline {
    let mut reviewed = gated("a", &[], "check it", None);
    if let Some(gate) = reviewed.gate.as_mut() {
        gate.approvers = approvers.iter().map(|a| a.to_string()).collect();
        gate.approvals = approvals;
    }
    pipeline(vec![reviewed])
}

#[test]
fn gate_approvers_are_names_or_groups() {
    assert_eq!(
        validate(&with_rules(&["ana", "group:ml-leads"], Some(2))),
        Ok(())
    );
    assert_eq!(
        only_message(&with_rules(&["ana smith"], None)),
        "job `a` has gate approver `ana smith`, which is neither a username nor `group:<name>`: use 1 to 64 letters, digits, `_` or `-` after the optional `group:`"
    );
    assert_eq!(
        validate(&with_rules(&["group:"], None))
            .expect_err("empty group")
            .0[0]
            .field(),
        Some("gate_approvers")
    );
}

#[test]
fn gate_approvals_must_be_possible() {
    assert_eq!(
        only_message(&with_rules(&[], Some(0))),
        "job `a` has gate `approvals: 0`: use 1 to 20 different people"
    );
    assert_eq!(
        only_message(&with_rules(&["ana", "ana"], Some(2))),
        "job `a` needs 2 gate approvals but names only 1 approver: name more people, add a group, or lower `approvals`"
    );
    assert_eq!(validate(&with_rules(&["ana", "bob"], Some(2))), Ok(()));
}

#[test]
fn gate_rules_need_a_gate() {
    let mut silent = gated("a", &[], "  ", None);
    if let Some(gate) = silent.gate.as_mut() {
        gate.allow_self_approval = true;
    }
    assert_eq!(
        only_message(&pipeline(vec![silent])),
        "job `a` sets who approves its gate but its gate message is blank, so no gate would be injected: write a gate message, or remove `approvers`, `approvals` and `allow_self_approval`"
    );
}

#[test]
fn a_run_script_over_64_kib_is_refused() {
    let mut long = job("a", &[]);
    long.run = "x".repeat(MAX_RUN_BYTES + 1);
    let p = pipeline(vec![long]);
    assert_eq!(
        only_message(&p),
        "job `a` has a `run` script of 65,537 bytes; the limit is 65,536 bytes (64 KiB): put the script in a file and run that file"
    );
    assert_eq!(
        validate(&p).expect_err("too long").0[0].field(),
        Some("run")
    );
    let mut at_limit = job("a", &[]);
    at_limit.run = "x".repeat(MAX_RUN_BYTES);
    assert_eq!(validate(&pipeline(vec![at_limit])), Ok(()));
}

#[test]
fn too_many_env_variables_are_refused() {
    let mut busy = job("a", &[]);
    busy.env = (0..=MAX_ENV_VARS)
        .map(|n| (format!("V{n}"), "1".to_string()))
        .collect();
    let p = pipeline(vec![busy]);
    assert_eq!(
        only_message(&p),
        "job `a` sets 101 env variables; the limit is 100: pass the rest in a file in the workspace"
    );
    assert_eq!(
        validate(&p).expect_err("too many").0[0].field(),
        Some("env")
    );
}

#[test]
fn an_env_value_over_8_kib_is_refused() {
    let mut heavy = job("a", &[]);
    heavy
        .env
        .insert("DATA".into(), "x".repeat(MAX_ENV_VALUE_BYTES + 1));
    heavy
        .env
        .insert("SMALL".into(), "x".repeat(MAX_ENV_VALUE_BYTES));
    let p = pipeline(vec![heavy]);
    assert_eq!(
        only_message(&p),
        "job `a` sets env `DATA` to a value of 8,193 bytes; the limit is 8,192 bytes (8 KiB): write the value to a file and pass its path"
    );
    assert_eq!(
        validate(&p).expect_err("too long").0[0].field(),
        Some("env")
    );
}

#[test]
fn a_gate_message_over_4096_characters_is_refused() {
    // Characters, not bytes: 4,096 of `é` (two bytes each) pass.
    let fits = gated("a", &[], &"é".repeat(MAX_GATE_MESSAGE_CHARS), None);
    assert_eq!(validate(&pipeline(vec![fits])), Ok(()));
    let wordy = gated("a", &[], &"é".repeat(MAX_GATE_MESSAGE_CHARS + 1), None);
    let p = pipeline(vec![wordy]);
    assert_eq!(
        only_message(&p),
        "job `a` has a gate message of 4,097 characters; the limit is 4,096: keep it to what the reviewer must check, and put the details in the job's output"
    );
    assert_eq!(
        validate(&p).expect_err("too long").0[0].field(),
        Some("gate_message")
    );
}

#[test]
fn too_many_gate_approvers_are_refused() {
    let names: Vec<String> = (0..=MAX_GATE_APPROVERS).map(|n| format!("u{n}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let p = with_rules(&names, None);
    assert_eq!(
        only_message(&p),
        "job `a` names 101 gate approvers; the limit is 100: name a `group:<name>` instead"
    );
    assert_eq!(
        validate(&p).expect_err("too many").0[0].field(),
        Some("gate_approvers")
    );
}

#[test]
fn the_run_size_counts_gates() {
    let p = pipeline(vec![
        gated("a", &[], "Review", None),
        job("b", &["a"]),
        gated("c", &["b"], "  ", None),
    ]);
    assert_eq!(run_size(&p), (3, 1));
    assert_eq!(check_run_size(&p, 4), Ok(()));
    let errors = check_run_size(&p, 3).expect_err("over the limit");
    assert_eq!(
        errors.0,
        vec![ValidationError::TooManyJobs {
            jobs: 3,
            gates: 1,
            limit: 3
        }]
    );
    assert_eq!(errors.0[0].job(), None);
    assert_eq!(errors.0[0].field(), None);
}

#[test]
fn the_run_size_message_names_the_count_the_limit_and_the_way_out() {
    let error = ValidationError::TooManyJobs {
        jobs: 11_000,
        gates: 1_000,
        limit: 10_000,
    };
    assert_eq!(
        error.to_string(),
        "the pipeline has 12,000 jobs with its gates (11,000 jobs and 1,000 gates, each gate a node of the run); the limit is 10,000 per run (TOLLGATE_MAX_JOBS_PER_RUN): split it into several pipelines"
    );
}

#[test]
fn thousands_separators() {
    for (number, text) in [
        (0, "0"),
        (999, "999"),
        (1_000, "1,000"),
        (65_536, "65,536"),
        (1_234_567, "1,234,567"),
    ] {
        assert_eq!(thousands(number), text);
    }
}

/// A gated job whose gate offers `options`.
fn with_options(id: &str, message: &str, options: &[&str]) -> crate::domain::JobSpec {
    let mut spec = gated(id, &[], message, None);
    if let Some(gate) = spec.gate.as_mut() {
        gate.options = options.iter().map(|o| o.to_string()).collect();
    }
    spec
}

#[test]
fn a_gate_form_problem_names_the_job_and_the_field() {
    let p = pipeline(vec![with_options("train", "Pick", &["ship", "ship"])]);
    let errors = validate(&p).expect_err("invalid");
    assert_eq!(errors.0[0].job(), Some("train"));
    assert_eq!(errors.0[0].field(), Some("gate_form"));
    assert_eq!(
        errors.0[0].to_string(),
        "job `train`, gate options: option `ship` is listed twice: list each option once"
    );
}

#[test]
fn options_without_a_gate_message_are_refused() {
    assert_eq!(
        only_message(&pipeline(vec![with_options("train", "  ", &["ship"])])),
        "job `train` gives its gate options or inputs but its gate message is blank, so no gate would be injected: write a gate message, or remove `options` and `inputs`"
    );
}

#[test]
fn gates_whose_choices_would_share_variable_names_are_refused() {
    let p = pipeline(vec![
        with_options("train-a", "Pick", &["ship"]),
        with_options("train_a", "Pick", &["ship"]),
        // Without a form the gate hands nothing on: no clash.
        gated("Train-A", &[], "Look", None),
    ]);
    assert_eq!(
        only_message(&p),
        "jobs `train_a` and `train-a` would both pass their gate's choice as `TOLLGATE_GATE_TRAIN_A_*`: rename one of them"
    );
}

/// `job` after `depends_on`, running only for `option` of `gate`.
fn branch(id: &str, depends_on: &[&str], gate: &str, option: &str) -> crate::domain::JobSpec {
    crate::domain::JobSpec {
        when: Some(crate::domain::When {
            gate: gate.into(),
            option: option.into(),
        }),
        ..job(id, depends_on)
    }
}

#[test]
fn a_branch_names_a_gate_before_it_and_one_of_its_options() {
    let review = || with_options("review", "Ship or roll back?", &["ship", "rollback"]);
    let valid = pipeline(vec![
        review(),
        branch("ship", &["review"], "hitl-gate-review", "ship"),
        job("tag", &["ship"]),
        // Two steps after the gate is still after it.
        branch("announce", &["tag"], "hitl-gate-review", "ship"),
    ]);
    assert_eq!(validate(&valid), Ok(()));

    for (jobs, message) in [
        (
            vec![
                review(),
                branch("ship", &["review"], "hitl-gate-reviw", "ship"),
            ],
            "job `ship` has `when.gate: hitl-gate-reviw`, which is not a gate of this pipeline: name the gate `hitl-gate-<job>` of a job with a gate message (hitl-gate-review)",
        ),
        (
            vec![review(), branch("ship", &[], "hitl-gate-review", "ship")],
            "job `ship` has `when.gate: hitl-gate-review` but does not come after that gate: add `review` (or a job after it) to its `depends_on`",
        ),
        (
            vec![
                review(),
                branch("ship", &["review"], "hitl-gate-review", "deploy"),
            ],
            "job `ship` has `when.option: deploy`, which gate `hitl-gate-review` does not offer: use one of ship, rollback",
        ),
        (
            vec![
                gated("look", &[], "Look", None),
                branch("ship", &["look"], "hitl-gate-look", "ship"),
            ],
            "job `ship` has `when.option: ship`, which gate `hitl-gate-look` does not offer: give job `look`'s gate `options`, or remove `when`",
        ),
    ] {
        let errors = validate(&pipeline(jobs)).expect_err(message);
        assert_eq!(errors.0.len(), 1, "{errors}");
        assert_eq!(errors.0[0].to_string(), message);
        assert_eq!(errors.0[0].job(), Some("ship"));
        assert_eq!(errors.0[0].field(), Some("when"));
    }
}

#[test]
fn a_pipelines_webhooks_are_web_addresses() {
    let with_notify = |urls: &[&str]| Pipeline {
        notify: urls.iter().map(|u| u.to_string()).collect(),
        ..pipeline(vec![job("a", &[])])
    };
    assert_eq!(
        validate(&with_notify(&[
            "https://hooks.example.com/t",
            "http://10.0.0.5:8080/x"
        ])),
        Ok(())
    );
    for bad in [
        "hooks.example.com",
        "ftp://x",
        "https://",
        "https:///path",
        "https://a b",
    ] {
        let errors = validate(&with_notify(&[bad])).expect_err(bad);
        assert_eq!(errors.0.len(), 1, "{bad}: {errors}");
        assert_eq!(errors.0[0].field(), Some("notify"));
        assert_eq!(
            errors.0[0].to_string(),
            format!(
                "`notify` has `{bad}`, which is not a web address: give one like https://hooks.example.com/tollgate (http or https, at most 2,048 characters)"
            )
        );
    }
    let many: Vec<String> = (0..11)
        .map(|n| format!("https://h{n}.example.com"))
        .collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    assert_eq!(
        only_message(&with_notify(&many)),
        "`notify` lists 11 endpoints; the limit is 10"
    );
}
