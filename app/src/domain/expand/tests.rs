use super::*;
use crate::domain::pipeline::JobSpec;
use crate::domain::test_support::{gated, job};

fn expanded(jobs: Vec<JobSpec>) -> RunGraph {
    expand(&Pipeline {
        name: "p".into(),
        notify: Vec::new(),
        jobs,
    })
    .expect("valid pipeline")
}

fn deps<'a>(graph: &'a RunGraph, id: &str) -> Vec<&'a str> {
    graph
        .node(id)
        .unwrap_or_else(|| panic!("no node {id}"))
        .depends_on
        .iter()
        .map(String::as_str)
        .collect()
}

fn ids(graph: &RunGraph) -> Vec<&str> {
    graph.nodes.iter().map(|n| n.id.as_str()).collect()
}

#[test]
fn gate_is_injected_between_source_and_dependents() {
    let graph = expanded(vec![
        gated(
            "preprocess",
            &[],
            "Review data quality report before training begins",
            None,
        ),
        job("train", &["preprocess"]),
        job("evaluate", &["train"]),
    ]);
    assert_eq!(
        ids(&graph),
        ["preprocess", "hitl-gate-preprocess", "train", "evaluate"]
    );
    assert_eq!(deps(&graph, "hitl-gate-preprocess"), ["preprocess"]);
    assert_eq!(deps(&graph, "train"), ["hitl-gate-preprocess"]);
    assert_eq!(deps(&graph, "evaluate"), ["train"]);
    let gate = graph.node("hitl-gate-preprocess").expect("gate");
    assert_eq!(
        gate.kind,
        NodeKind::Gate {
            message: "Review data quality report before training begins".into(),
            timeout_secs: 172_800,
            source: "preprocess".into(),
            policy: Default::default(),
            form: Default::default(),
            environment: None,
        }
    );
}

#[test]
fn gate_keeps_its_timeout() {
    let mut source = gated("a", &[], "check", None);
    source.gate.as_mut().expect("gate").timeout = Some(300);
    let graph = expanded(vec![source]);
    assert!(matches!(
        graph.node("hitl-gate-a").expect("gate").kind,
        NodeKind::Gate {
            timeout_secs: 300,
            ..
        }
    ));
}

#[test]
fn blank_message_injects_nothing() {
    let graph = expanded(vec![gated("a", &[], "  ", None), job("b", &["a"])]);
    assert_eq!(ids(&graph), ["a", "b"]);
    assert_eq!(deps(&graph, "b"), ["a"]);
}

#[test]
fn a_gated_leaf_still_gets_its_gate() {
    let graph = expanded(vec![job("a", &[]), gated("b", &["a"], "last look", None)]);
    assert_eq!(ids(&graph), ["a", "b", "hitl-gate-b"]);
}

#[test]
fn fan_out_and_fan_in_are_kept() {
    // a fans out to b and c (through a's gate); d joins b (gated) and c.
    let graph = expanded(vec![
        gated("a", &[], "check a", None),
        gated("b", &["a"], "check b", None),
        job("c", &["a"]),
        job("d", &["b", "c"]),
    ]);
    assert_eq!(deps(&graph, "b"), ["hitl-gate-a"]);
    assert_eq!(deps(&graph, "c"), ["hitl-gate-a"]);
    assert_eq!(deps(&graph, "d"), ["hitl-gate-b", "c"]);
    assert_eq!(graph.gates().count(), 2);
    let edges: usize = graph.nodes.iter().map(|n| n.depends_on.len()).sum();
    assert_eq!(edges, 6);
}

#[test]
fn duplicate_dependencies_collapse() {
    let graph = expanded(vec![job("a", &[]), job("b", &["a", "a"])]);
    assert_eq!(deps(&graph, "b"), ["a"]);
}

#[test]
fn nodes_are_in_topological_order_even_when_written_out_of_order() {
    let graph = expanded(vec![
        job("evaluate", &["train"]),
        job("train", &["preprocess"]),
        gated("preprocess", &[], "check", None),
    ]);
    let position = |id: &str| graph.nodes.iter().position(|n| n.id == id).expect(id);
    for node in &graph.nodes {
        for dependency in &node.depends_on {
            assert!(
                position(dependency) < position(&node.id),
                "{dependency} before {}",
                node.id
            );
        }
    }
    assert_eq!(graph.topological_order(), Some((0..4).collect()));
}

#[test]
fn expansion_is_deterministic() {
    let jobs = vec![
        job("a", &[]),
        gated("b", &["a"], "x", None),
        gated("c", &["a"], "y", None),
        job("d", &["b", "c"]),
    ];
    assert_eq!(expanded(jobs.clone()), expanded(jobs));
}

#[test]
fn invalid_pipeline_is_not_expanded() {
    let errors = expand(&Pipeline {
        name: "p".into(),
        notify: Vec::new(),
        jobs: vec![job("a", &["b"]), job("b", &["a"])],
    })
    .expect_err("cycle");
    assert_eq!(errors.0.len(), 1);
}

#[test]
fn graph_snapshot_round_trips_as_json() {
    let graph = expanded(vec![gated("a", &[], "x", None), job("b", &["a"])]);
    let text = serde_json::to_string(&graph).expect("serialize");
    assert_eq!(
        serde_json::from_str::<RunGraph>(&text).expect("parse"),
        graph
    );
}

#[test]
fn a_run_graph_folds_back_into_its_pipeline() {
    let graph = expanded(vec![
        job("evaluate", &["train"]),
        job("train", &["preprocess"]),
        gated("preprocess", &[], "check", Some(300)),
        gated("side", &["preprocess"], "other", None),
    ]);
    let again = expand(&graph.to_pipeline()).expect("valid");
    assert_eq!(again, graph);
}
