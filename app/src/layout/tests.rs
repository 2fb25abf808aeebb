use std::collections::HashMap;

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
            when: None,
            network: None,
        })
        .collect();
    expand(&Pipeline {
        name: "p".into(),
        notify: Vec::new(),
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

fn column(x: f64) -> usize {
    let column = (x - MARGIN) / (NODE_WIDTH + LAYER_GAP);
    assert!(
        (column - column.round()).abs() < 1e-9 && column >= -1e-9,
        "x {x} is on a layer"
    );
    column.round() as usize
}

/// Every property a drawing must have: each node once, inside the drawing, no two
/// overlapping, every edge from a lower to a higher layer, and no edge through a box.
fn assert_well_formed(graph: &RunGraph, layout: &GraphLayout) {
    assert_eq!(
        layout.nodes.len(),
        graph.nodes.len(),
        "every node is placed once"
    );
    let mut by_column: HashMap<usize, Vec<&PlacedNode>> = HashMap::new();
    for a in &layout.nodes {
        assert!(a.x >= 0.0 && a.y >= 0.0);
        assert!(a.x + NODE_WIDTH <= layout.width && a.y + NODE_HEIGHT <= layout.height);
        by_column.entry(column(a.x)).or_default().push(a);
    }
    // Nodes of different layers never overlap: the columns are apart.
    for nodes in by_column.values_mut() {
        nodes.sort_by(|a, b| a.y.total_cmp(&b.y));
        for pair in nodes.windows(2) {
            assert!(
                pair[0].y + NODE_HEIGHT <= pair[1].y,
                "{} and {} overlap: {:?} {:?}",
                pair[0].id,
                pair[1].id,
                pair[0],
                pair[1]
            );
        }
    }
    for edge in &layout.edges {
        let (from, to) = (node(layout, &edge.from), node(layout, &edge.to));
        let name = format!("edge {} -> {}", edge.from, edge.to);
        assert!(column(from.x) < column(to.x), "{name} points backwards");
        assert_eq!(
            edge.via.len(),
            column(to.x) - column(from.x) - 1,
            "{name} passes every layer between its ends"
        );
        // Curves run only in the gaps between layers; across a layer the edge is
        // straight, and clear of every box there.
        let mut previous = column(from.x);
        for &(x, y) in &edge.via {
            assert_eq!(column(x), previous + 1, "{name} goes one layer at a time");
            previous += 1;
            assert!(y <= layout.height);
            for other in by_column.get(&previous).into_iter().flatten() {
                assert!(
                    y < other.y || y > other.y + NODE_HEIGHT,
                    "{name} runs through {} at y {y}",
                    other.id
                );
            }
        }
    }
    let edge_count: usize = graph.nodes.iter().map(|n| n.depends_on.len()).sum();
    assert_eq!(layout.edges.len(), edge_count);
}

fn centre(layout: &GraphLayout, id: &str) -> f64 {
    node(layout, id).y + NODE_HEIGHT / 2.0
}

fn parse(yaml: &str) -> RunGraph {
    expand(&Pipeline::parse(yaml).expect("parse")).expect("valid")
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
        notify: Vec::new(),
        nodes: Vec::new(),
    };
    assert_eq!(layout(&graph), GraphLayout::default());
}

#[test]
fn a_random_dag_of_three_thousand_nodes_is_well_formed() {
    let graph = random_dag(3_000, 2);
    let layout = layout(&graph);
    assert_well_formed(&graph, &layout);
}

#[test]
fn chains_stay_on_rows_and_components_in_order() {
    // 0 -> 1 -> 2, 0 -> 3 -> 4 (a fork of two chains), then 5 -> 6 and a lone 7.
    let graph = pipeline_of(&[(0, 1), (1, 2), (0, 3), (3, 4), (5, 6)], 8);
    let layout = layout(&graph);
    assert_well_formed(&graph, &layout);
    let at = |id: &str| node(&layout, id);
    assert_eq!(at("j1").y, at("j2").y, "a chain stays on one row");
    assert_eq!(at("j3").y, at("j4").y);
    assert_ne!(
        at("j1").y,
        at("j3").y,
        "the fork's branches get rows of their own"
    );
    assert_eq!(at("j1").x, at("j3").x, "one layer per step");
    assert!(at("j4").y < at("j5").y && at("j6").y < at("j7").y);
}

#[test]
fn each_node_is_a_layer_past_its_deepest_dependency() {
    // 0 -> 1 -> 2 and 0 -> 2: 2 waits for 1, so it sits two layers after 0.
    let graph = pipeline_of(&[(0, 1), (1, 2), (0, 2)], 3);
    let layout = layout(&graph);
    assert_well_formed(&graph, &layout);
    assert!(node(&layout, "j0").x < node(&layout, "j1").x);
    assert!(node(&layout, "j1").x < node(&layout, "j2").x);
}

#[test]
fn a_long_edge_goes_around_the_nodes_it_passes() {
    // a -> b -> c -> d and a -> d: the edge a -> d crosses the layers of b and c.
    let graph = parse(
        "name: skip\njobs:\n  - {id: a, run: x}\n  - {id: b, run: x, depends_on: [a]}\n  - {id: c, run: x, depends_on: [b]}\n  - {id: d, run: x, depends_on: [c, a]}\n",
    );
    let layout = layout(&graph);
    assert_well_formed(&graph, &layout);
    let long = layout
        .edges
        .iter()
        .find(|e| e.from == "a" && e.to == "d")
        .expect("a -> d");
    assert_eq!(long.via.len(), 2);
    assert_eq!(
        long.path.matches('L').count(),
        2,
        "straight across b's and c's layers"
    );
    assert_eq!(
        node(&layout, "b").y,
        node(&layout, "c").y,
        "the chain keeps its row"
    );
}

/// The `ci` example: `lint` feeds only `package` and `notify`, far to the right.
const CI: &str = "name: ci
jobs:
  - {id: build, run: x}
  - {id: lint, run: x}
  - {id: unit, run: x, depends_on: [build]}
  - {id: integration, run: x, depends_on: [build]}
  - {id: package, run: x, depends_on: [unit, integration, lint]}
  - {id: staging, run: x, depends_on: [package], gate: {message: ok to ship?}}
  - {id: production, run: x, depends_on: [staging]}
  - {id: notify, run: x, depends_on: [production, lint]}
";

#[test]
fn a_source_sits_just_before_its_first_dependent() {
    let graph = parse(CI);
    let layout = layout(&graph);
    assert_well_formed(&graph, &layout);
    let step = NODE_WIDTH + LAYER_GAP;
    assert_eq!(node(&layout, "lint").x, node(&layout, "package").x - step);
    assert_eq!(
        node(&layout, "build").x,
        MARGIN,
        "the longest chain still starts left"
    );
}

#[test]
fn the_ci_example_has_no_crossings() {
    let graph = parse(CI);
    let topology = Topology::new(&graph);
    let components = components::components(&topology, graph.nodes.len());
    assert_eq!(components.len(), 1);
    let layer = rank::layers(&components[0]);
    let proper = proper::split_long_edges(&components[0], &layer);
    let layers = order::order(&proper);
    let mut slot = vec![0; proper.len()];
    for layer in &layers {
        for (index, &at) in layer.iter().enumerate() {
            slot[at] = index;
        }
    }
    assert_eq!(crossings::total(&proper, &layers, &slot), 0);
}

#[test]
fn crossings_are_counted() {
    // 0 -> 3, 1 -> 2, 0 -> 2 with layers [0, 1] and [2, 3]: 0 -> 3 crosses 1 -> 2;
    // with 3 above 2 nothing crosses.
    let graph = pipeline_of(&[(0, 3), (1, 2), (0, 2)], 4);
    let topology = Topology::new(&graph);
    let components = components::components(&topology, 4);
    let proper = proper::split_long_edges(&components[0], &[0, 0, 1, 1]);
    let layers = vec![vec![0, 1], vec![2, 3]];
    assert_eq!(crossings::total(&proper, &layers, &[0, 1, 0, 1]), 1);
    let swapped = vec![vec![0, 1], vec![3, 2]];
    assert_eq!(crossings::total(&proper, &swapped, &[0, 1, 1, 0]), 0);
}

#[test]
fn a_parent_is_centred_on_its_children_and_a_join_on_its_parents() {
    for fan in 2..=5 {
        // 0 fans out to 1..=fan, which all join into fan + 1.
        let join = fan + 1;
        let edges: Vec<(usize, usize)> = (1..=fan).flat_map(|i| [(0, i), (i, join)]).collect();
        let graph = pipeline_of(&edges, fan + 2);
        let layout = layout(&graph);
        assert_well_formed(&graph, &layout);
        let children: Vec<f64> = (1..=fan)
            .map(|i| centre(&layout, &format!("j{i}")))
            .collect();
        let middle = children.iter().sum::<f64>() / fan as f64;
        assert!(
            (centre(&layout, "j0") - middle).abs() <= 1.0,
            "fan of {fan}"
        );
        assert!((centre(&layout, &format!("j{join}")) - middle).abs() <= 1.0);
    }
}

#[test]
fn a_gated_branch_of_a_fan_keeps_the_fan_centred() {
    let graph = parse(
        "name: fan\njobs:\n  - {id: prep, run: x}\n  - {id: t1, run: x, depends_on: [prep]}\n  - {id: t2, run: x, depends_on: [prep], gate: {message: check}}\n  - {id: t3, run: x, depends_on: [prep]}\n  - {id: evaluate, run: x, depends_on: [t1, t2, t3]}\n",
    );
    let layout = layout(&graph);
    assert_well_formed(&graph, &layout);
    let middle = (centre(&layout, "t1") + centre(&layout, "t3")) / 2.0;
    assert!((centre(&layout, "prep") - middle).abs() <= 1.0);
    assert!((centre(&layout, "t2") - middle).abs() <= 1.0);
    assert_eq!(centre(&layout, "t2"), centre(&layout, "hitl-gate-t2"));
}

#[test]
fn a_chain_that_all_depends_on_one_job_stays_within_the_placeholder_budget() {
    // 0 -> 1 -> 2 -> ... and 0 -> every node: the edges from 0 would need 4.5 million
    // placeholders; the longest are drawn straight instead.
    let count = 3_000;
    let edges: Vec<(usize, usize)> = (1..count)
        .flat_map(|to| [(to - 1, to), (0, to)])
        .filter(|&(from, to)| from != 0 || to > 1)
        .chain([(0, 1)])
        .collect();
    let graph = pipeline_of(&edges, count);
    let layout = layout(&graph);
    assert_eq!(layout.nodes.len(), count);
    for edge in &layout.edges {
        let (from, to) = (node(&layout, &edge.from), node(&layout, &edge.to));
        assert!(column(from.x) < column(to.x));
    }
    let placeholders: usize = layout.edges.iter().map(|e| e.via.len()).sum();
    assert!(placeholders <= 100_000, "{placeholders}");
    assert!(placeholders > 0, "the short ones still get placeholders");
}
