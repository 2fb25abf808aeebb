use super::*;
use crate::domain::{JobSpec, Pipeline, expand};

fn pipeline_of(edges: &[(usize, usize)], count: usize) -> RunGraph {
    let jobs = (0..count)
        .map(|i| JobSpec {
            id: format!("j{i}"),
            run: "true".into(),
            depends_on: edges
                .iter()
                .filter(|(_, to)| *to == i)
                .map(|(from, _)| format!("j{from}"))
                .collect(),
            env: Default::default(),
            timeout: None,
            gate: None,
        })
        .collect();
    expand(&Pipeline {
        name: "p".into(),
        jobs,
    })
    .expect("valid")
}

/// A pseudo-random DAG (edges only from lower to higher numbers), the same every time.
fn random_dag(count: usize, edges_per_node: usize) -> RunGraph {
    let mut seed: u64 = 42;
    let mut next = || {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        (seed >> 33) as usize
    };
    let mut edges = Vec::new();
    for to in 1..count {
        for _ in 0..edges_per_node {
            let from = next() % to;
            if !edges.contains(&(from, to)) {
                edges.push((from, to));
            }
        }
    }
    pipeline_of(&edges, count)
}

fn node<'a>(layout: &'a GraphLayout, id: &str) -> &'a PlacedNode {
    layout.nodes.iter().find(|n| n.id == id).expect("placed")
}

fn assert_well_formed(graph: &RunGraph, layout: &GraphLayout) {
    assert_eq!(
        layout.nodes.len(),
        graph.nodes.len(),
        "every node is placed once"
    );
    for (i, a) in layout.nodes.iter().enumerate() {
        assert!(a.x >= 0.0 && a.y >= 0.0);
        assert!(a.x + NODE_WIDTH <= layout.width && a.y + NODE_HEIGHT <= layout.height);
        for b in &layout.nodes[i + 1..] {
            let apart = a.x + NODE_WIDTH <= b.x
                || b.x + NODE_WIDTH <= a.x
                || a.y + NODE_HEIGHT <= b.y
                || b.y + NODE_HEIGHT <= a.y;
            assert!(apart, "{} and {} overlap: {a:?} {b:?}", a.id, b.id);
        }
    }
    for edge in &layout.edges {
        let (from, to) = (node(layout, &edge.from), node(layout, &edge.to));
        assert!(
            from.x + NODE_WIDTH < to.x,
            "edge {} -> {} points backwards",
            edge.from,
            edge.to
        );
    }
    let edge_count: usize = graph.nodes.iter().map(|n| n.depends_on.len()).sum();
    assert_eq!(layout.edges.len(), edge_count);
}

#[test]
fn the_review_workflow_reads_left_to_right_on_one_row() {
    let yaml = "name: r\njobs:\n  - {id: preprocess, run: x, gate: {message: check}}\n  - {id: train, run: x, depends_on: [preprocess]}\n  - {id: evaluate, run: x, depends_on: [train]}\n";
    let graph = expand(&Pipeline::parse(yaml).expect("parse")).expect("valid");
    let layout = layout(&graph);
    assert_well_formed(&graph, &layout);
    let order = ["preprocess", "hitl-gate-preprocess", "train", "evaluate"];
    for pair in order.windows(2) {
        let (a, b) = (node(&layout, pair[0]), node(&layout, pair[1]));
        assert!(a.x < b.x, "{} before {}", pair[0], pair[1]);
        assert_eq!(a.y, b.y, "a chain stays on one row");
    }
    assert!(layout.edges[0].path.starts_with('M'));
}

#[test]
fn a_diamond_puts_its_branches_in_one_layer() {
    let graph = pipeline_of(&[(0, 1), (0, 2), (1, 3), (2, 3)], 4);
    let layout = layout(&graph);
    assert_well_formed(&graph, &layout);
    assert_eq!(node(&layout, "j1").x, node(&layout, "j2").x);
    assert_ne!(node(&layout, "j1").y, node(&layout, "j2").y);
}

#[test]
fn separate_components_and_lone_nodes_are_all_placed() {
    let graph = pipeline_of(&[(0, 1), (2, 3)], 6);
    let layout = layout(&graph);
    assert_well_formed(&graph, &layout);
    assert!(
        node(&layout, "j0").y < node(&layout, "j2").y,
        "components stack in graph order"
    );
}

#[test]
fn a_random_dag_has_no_overlaps_and_only_forward_edges() {
    let graph = random_dag(200, 2);
    let layout = layout(&graph);
    assert_well_formed(&graph, &layout);
}

#[test]
fn five_hundred_jobs_lay_out() {
    let graph = random_dag(500, 2);
    let layout = layout(&graph);
    assert_well_formed(&graph, &layout);
}

#[test]
fn the_layout_is_deterministic() {
    let graph = random_dag(120, 3);
    assert_eq!(layout(&graph), layout(&graph));
}

#[test]
fn an_empty_graph_has_an_empty_layout() {
    let graph = RunGraph {
        pipeline: "p".into(),
        nodes: Vec::new(),
    };
    assert_eq!(layout(&graph), GraphLayout::default());
}

#[test]
fn big_graphs_take_the_layered_method_small_ones_keep_sugiyama() {
    let small = random_dag(BIG_GRAPH, 1);
    assert_eq!(layout(&small), layout_with(&small, Method::Sugiyama));
    let big = random_dag(BIG_GRAPH + 1, 1);
    assert_eq!(layout(&big), layout_with(&big, Method::Layered));
}

#[test]
fn the_layered_method_is_well_formed_on_a_random_dag() {
    let graph = random_dag(3_000, 2);
    let layout = layout_with(&graph, Method::Layered);
    assert_well_formed(&graph, &layout);
}

#[test]
fn the_layered_method_is_deterministic() {
    let graph = random_dag(400, 3);
    assert_eq!(
        layout_with(&graph, Method::Layered),
        layout_with(&graph, Method::Layered)
    );
}

#[test]
fn the_layered_method_keeps_chains_on_rows_and_components_in_order() {
    // 0 -> 1 -> 2, 0 -> 3 -> 4 (a fork of two chains), then 5 -> 6 and a lone 7.
    let graph = pipeline_of(&[(0, 1), (1, 2), (0, 3), (3, 4), (5, 6)], 8);
    let layout = layout_with(&graph, Method::Layered);
    assert_well_formed(&graph, &layout);
    let at = |id: &str| node(&layout, id);
    assert_eq!(at("j1").y, at("j2").y, "a chain stays on one row");
    assert_eq!(at("j3").y, at("j4").y);
    assert_ne!(
        at("j1").y,
        at("j3").y,
        "the fork's branches get rows of their own"
    );
    assert_eq!(
        at("j0").y,
        at("j1").y,
        "the fork's source sits on its first branch"
    );
    assert_eq!(at("j1").x, at("j3").x, "one layer per step");
    assert!(at("j4").y < at("j5").y && at("j6").y < at("j7").y);
}

#[test]
fn the_layered_method_puts_each_node_one_layer_past_its_deepest_dependency() {
    // 0 -> 1 -> 2 and 0 -> 2: 2 waits for 1, so it sits two layers after 0.
    let graph = pipeline_of(&[(0, 1), (1, 2), (0, 2)], 3);
    let layout = layout_with(&graph, Method::Layered);
    assert_well_formed(&graph, &layout);
    assert!(node(&layout, "j0").x < node(&layout, "j1").x);
    assert!(node(&layout, "j1").x < node(&layout, "j2").x);
}
