use super::*;
use crate::constructor::History;
use crate::domain::{ValidationError, expand, validate};

/// preprocess (gated, 300 s) -> train -> evaluate, drawn by hand.
fn review() -> Draft {
    let mut draft = Draft {
        name: "review".into(),
        ..Draft::default()
    };
    let preprocess = draft.add_node(0.0, 0.0);
    let train = draft.add_node(240.0, 0.0);
    let evaluate = draft.add_node(480.0, 0.0);
    for (key, id) in [
        (preprocess, "preprocess"),
        (train, "train"),
        (evaluate, "evaluate"),
    ] {
        let node = draft.node_mut(key).expect("node");
        node.id = id.into();
        node.run = format!("echo {id}");
    }
    let node = draft.node_mut(preprocess).expect("node");
    node.gate_message = "Review data quality report before training begins".into();
    node.gate_timeout = "300".into();
    assert!(draft.connect(preprocess, train));
    assert!(draft.connect(train, evaluate));
    draft
}

#[test]
fn a_drawn_draft_is_the_pipeline_it_shows() {
    let (pipeline, problems) = review().to_pipeline();
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(validate(&pipeline), Ok(()));
    let graph = expand(&pipeline).expect("valid");
    let ids: Vec<&str> = graph.nodes.iter().map(|n| n.id.as_str()).collect();
    assert_eq!(
        ids,
        ["preprocess", "hitl-gate-preprocess", "train", "evaluate"]
    );
    let gate = pipeline.jobs[0].active_gate().expect("gate");
    assert_eq!(gate.timeout_secs(), 300);
}

#[test]
fn a_pipeline_reloads_into_the_same_draft() {
    let draft = review();
    let (pipeline, _) = draft.to_pipeline();
    let again = Draft::from_pipeline(&pipeline, &draft.layout());
    assert_eq!(again.to_pipeline().0, pipeline);
    assert_eq!(again.layout(), draft.layout(), "positions are kept");
}

#[test]
fn jobs_without_a_position_are_arranged_by_layer() {
    let yaml = "name: p\njobs:\n  - {id: a, run: x}\n  - {id: b, run: x, depends_on: [a]}\n  - {id: c, run: x, depends_on: [a]}\n";
    let pipeline = Pipeline::parse(yaml).expect("parse");
    let draft = Draft::from_pipeline(&pipeline, &Layout::default());
    let at = |id: &str| {
        let node = draft.node(draft.key_of(id).expect("key")).expect("node");
        (node.x, node.y)
    };
    assert!(at("a").0 < at("b").0);
    assert_eq!(at("b").0, at("c").0);
    assert_ne!(at("b").1, at("c").1);
    assert_eq!(draft.edges.len(), 2);
}

#[test]
fn unreadable_fields_are_reported_on_their_node() {
    let mut draft = review();
    let key = draft.key_of("train").expect("key");
    let node = draft.node_mut(key).expect("node");
    node.timeout = "ten".into();
    node.env = "GOOD=1\nbroken line".into();
    let (pipeline, problems) = draft.to_pipeline();
    assert_eq!(
        problems,
        vec![
            FieldProblem {
                node: key,
                field: "env",
                message: "line 2 is not `NAME=value`: `broken line`".into()
            },
            FieldProblem {
                node: key,
                field: "timeout",
                message: "`ten` is not a whole number of seconds".into()
            },
        ]
    );
    assert_eq!(
        pipeline.jobs[1].env.get("GOOD").map(String::as_str),
        Some("1")
    );
}

#[test]
fn a_changed_gate_timeout_without_a_message_is_the_same_error_as_in_yaml() {
    let mut draft = review();
    let key = draft.key_of("train").expect("key");
    draft.node_mut(key).expect("node").gate_timeout = "60".into();
    let (pipeline, _) = draft.to_pipeline();
    let errors = validate(&pipeline).expect_err("invalid").0;
    assert_eq!(
        errors,
        vec![ValidationError::GateTimeoutWithoutMessage {
            job: "train".into()
        }]
    );
    // The untouched default with a blank message is simply no gate.
    assert!(review().to_pipeline().0.jobs[1].gate.is_none());
}

#[test]
fn a_cycle_drawn_on_the_canvas_is_named() {
    let mut draft = review();
    let (evaluate, preprocess) = (
        draft.key_of("evaluate").expect("e"),
        draft.key_of("preprocess").expect("p"),
    );
    assert!(draft.connect(evaluate, preprocess));
    let errors = validate(&draft.to_pipeline().0).expect_err("cycle").0;
    assert_eq!(
        errors,
        vec![ValidationError::Cycle {
            cycle: vec![
                "preprocess".into(),
                "train".into(),
                "evaluate".into(),
                "preprocess".into()
            ]
        }]
    );
}

#[test]
fn connecting_refuses_self_loops_and_repeats() {
    let mut draft = review();
    let a = draft.key_of("preprocess").expect("a");
    let b = draft.key_of("train").expect("b");
    assert!(!draft.connect(a, a));
    assert!(!draft.connect(a, b), "exists already");
    assert!(!draft.connect(a, 999));
}

#[test]
fn nodes_snap_to_the_grid_and_new_ids_are_unique() {
    let mut draft = Draft::default();
    let first = draft.add_node(33.0, 47.0);
    let second = draft.add_node(0.0, 0.0);
    let node = draft.node(first).expect("node");
    assert_eq!((node.x, node.y), (40.0, 40.0));
    assert_eq!(node.id, "job_1");
    assert_eq!(draft.node(second).expect("node").id, "job_2");
    draft.move_nodes(&[first], 11.0, -100.0);
    let node = draft.node(first).expect("node");
    assert_eq!((node.x, node.y), (60.0, 0.0));
    assert_eq!(
        node.gate_timeout, "172800",
        "the gate timeout starts at 48 hours"
    );
}

#[test]
fn removing_a_node_removes_its_edges() {
    let mut draft = review();
    let train = draft.key_of("train").expect("train");
    draft.remove(&[train], &[]);
    assert_eq!(draft.nodes.len(), 2);
    assert!(draft.edges.is_empty());
    let mut other = review();
    let edge = other.edges[0];
    other.remove(&[], &[edge]);
    assert_eq!(other.edges.len(), 1);
    assert_eq!(other.nodes.len(), 3);
}

#[test]
fn duplicating_copies_nodes_and_the_edges_between_them() {
    let mut draft = review();
    let keys: Vec<u32> = ["preprocess", "train"]
        .iter()
        .map(|id| draft.key_of(id).expect("key"))
        .collect();
    let copies = draft.duplicate(&keys);
    assert_eq!(copies.len(), 2);
    let ids: Vec<&str> = copies
        .iter()
        .map(|key| draft.node(*key).expect("copy").id.as_str())
        .collect();
    assert_eq!(ids, ["preprocess_copy_1", "train_copy_1"]);
    assert_eq!(
        draft.edges.len(),
        3,
        "the preprocess -> train edge is copied too"
    );
    assert!(
        draft.node(copies[0]).expect("copy").has_gate(),
        "the gate comes along"
    );
    assert_eq!(validate(&draft.to_pipeline().0), Ok(()));
}

#[test]
fn box_selection_takes_the_nodes_inside() {
    let draft = review();
    let inside = draft.nodes_in((300.0, 80.0), (-10.0, -10.0), 180.0, 60.0);
    assert_eq!(inside, [draft.key_of("preprocess").expect("p")]);
}

#[test]
fn undo_and_redo_walk_through_structural_changes() {
    let mut history = History::default();
    let mut draft = review();
    let original = draft.clone();
    history.record(draft.clone());
    let (a, c) = (
        draft.key_of("preprocess").expect("a"),
        draft.key_of("evaluate").expect("c"),
    );
    draft.connect(a, c);
    let connected = draft.clone();

    let undone = history.undo(draft).expect("undo");
    assert_eq!(undone, original);
    assert!(history.can_redo());
    let redone = history.redo(undone).expect("redo");
    assert_eq!(redone, connected);
    assert!(history.redo(redone.clone()).is_none());
    history.record(redone);
    assert!(!history.can_redo(), "a new change drops the redo steps");
}
