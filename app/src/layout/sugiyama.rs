//! The layout of small graphs: `rust-sugiyama`'s Sugiyama layout (network-simplex
//! ranking, crossing minimisation, Brandes-Koepf placement), which lays out top-down, so
//! its axes are swapped here.

use petgraph::stable_graph::{NodeIndex, StableDiGraph};
use rust_sugiyama::configure::Config;

use super::{COMPONENT_GAP, LAYER_GAP, MARGIN, NODE_GAP, NODE_HEIGHT, NODE_WIDTH};
use crate::domain::Topology;

/// Top-left corners of the graph's `count` nodes, in the order of its nodes.
pub(super) fn place(topology: &Topology, count: usize) -> Vec<(f64, f64)> {
    let mut dag: StableDiGraph<usize, ()> = StableDiGraph::with_capacity(count, count);
    let indices: Vec<NodeIndex> = (0..count).map(|position| dag.add_node(position)).collect();
    for (position, &to) in indices.iter().enumerate() {
        for &from in topology.dependencies(position) {
            dag.add_edge(indices[from], to, ());
        }
    }
    let config = Config {
        vertex_spacing: NODE_GAP,
        ..Config::default()
    };
    // Top-down, a node's width is what separates it from its neighbours in a layer: in
    // our left-to-right picture that is its height, and the other way round.
    let mut components =
        rust_sugiyama::from_graph(&dag, &|_, _| (NODE_HEIGHT, NODE_WIDTH), &config);
    components.sort_by_key(|(nodes, _, _)| nodes.iter().map(|(index, _)| dag[*index]).min());

    let mut placed = vec![(MARGIN, MARGIN); count];
    let mut top = MARGIN;
    for (nodes, _, _) in &components {
        let mut ranks: Vec<f64> = nodes.iter().map(|(_, (_, y))| *y).collect();
        ranks.sort_by(f64::total_cmp);
        ranks.dedup_by(|a, b| (*a - *b).abs() < 0.5);
        let across_min = nodes
            .iter()
            .map(|(_, (x, _))| *x)
            .fold(f64::INFINITY, f64::min);
        let mut bottom = top;
        for (index, (across, along)) in nodes {
            let rank = ranks.partition_point(|r| *r < along - 0.5);
            let x = MARGIN + rank as f64 * (NODE_WIDTH + LAYER_GAP);
            let y = top + (across - across_min);
            placed[dag[*index]] = (x, y);
            bottom = bottom.max(y + NODE_HEIGHT);
        }
        top = bottom + COMPONENT_GAP;
    }
    placed
}
