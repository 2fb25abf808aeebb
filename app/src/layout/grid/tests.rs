use super::*;
use crate::domain::{JobSpec, Pipeline, expand};
use crate::layout::layout;

/// `chains` chains of `length` jobs, laid out in rows.
fn chains(chains: usize, length: usize) -> GraphLayout {
    let jobs = (0..chains * length)
        .map(|i| JobSpec {
            id: format!("c{}_{}", i / length, i % length),
            run: "true".into(),
            depends_on: if i % length == 0 {
                Vec::new()
            } else {
                vec![format!("c{}_{}", i / length, i % length - 1)]
            },
            env: Default::default(),
            timeout: None,
            gate: None,
            when: None,
            network: None,
        })
        .collect();
    let graph = expand(&Pipeline {
        name: "p".into(),
        notify: Vec::new(),
        jobs,
    })
    .expect("valid");
    layout(&graph)
}

/// What a plain scan finds in `rect`: the reference the grid must agree with.
fn scanned(layout: &GraphLayout, rect: Rect) -> Vec<usize> {
    let (left, top, right, bottom) = rect;
    (0..layout.nodes.len())
        .filter(|&at| {
            let node = &layout.nodes[at];
            node.x < right
                && node.x + NODE_WIDTH > left
                && node.y < bottom
                && node.y + NODE_HEIGHT > top
        })
        .collect()
}

#[test]
fn every_node_in_a_rectangle_is_found_once() {
    let layout = chains(60, 12);
    let grid = Grid::new(&layout, 300.0);
    for rect in [
        (0.0, 0.0, 800.0, 640.0),
        (1_000.0, 2_000.0, 1_900.0, 2_700.0),
        (-500.0, -500.0, 10.0, 10.0),
    ] {
        let found = grid.nodes_in(grid.range(rect));
        for at in scanned(&layout, rect) {
            assert!(found.contains(&at), "node {at} in {rect:?} is missed");
        }
        let mut unique = found.clone();
        unique.dedup();
        assert_eq!(unique, found, "sorted, each once");
    }
}

#[test]
fn a_small_window_of_a_big_layout_holds_a_few_nodes_and_their_edges() {
    let layout = chains(500, 10);
    let grid = Grid::new(&layout, 512.0);
    let range = grid.range((0.0, 0.0, 800.0, 640.0));
    let nodes = grid.nodes_in(range);
    assert!(
        !nodes.is_empty() && nodes.len() < 200,
        "{} nodes",
        nodes.len()
    );
    let edges = grid.edges_in(range);
    assert!(
        !edges.is_empty() && edges.len() < 200,
        "{} edges",
        edges.len()
    );
    assert!(
        edges.contains(&0),
        "the first chain's first edge is in the top-left corner"
    );
}

#[test]
fn zoomed_far_out_everything_is_found() {
    let layout = chains(40, 5);
    let grid = Grid::new(&layout, 256.0);
    let all = grid.nodes_in(grid.range((-1e9, -1e9, 1e9, 1e9)));
    assert_eq!(all, (0..200).collect::<Vec<_>>());
    assert_eq!(grid.edges_in(grid.range((-1e9, -1e9, 1e9, 1e9))).len(), 160);
}
