//! Where each node of a run graph is drawn: layered left to right, every job after what
//! it depends on, with crossings reduced.
//!
//! The layering, crossing minimisation and placement are `rust-sugiyama`'s (a Sugiyama
//! layout); it lays out top-down, so its axes are swapped here. Separate components are
//! stacked from top to bottom in graph order. Pure and deterministic, so the browser
//! and the tests get the same picture.

use petgraph::stable_graph::{NodeIndex, StableDiGraph};
use rust_sugiyama::configure::Config;

use crate::domain::{RunGraph, Topology};

pub const NODE_WIDTH: f64 = 180.0;
pub const NODE_HEIGHT: f64 = 48.0;
/// Horizontal room between layers, for the curved edges and their arrowheads.
const LAYER_GAP: f64 = 72.0;
/// Vertical room between nodes of one layer.
const NODE_GAP: f64 = 22.0;
const COMPONENT_GAP: f64 = 40.0;
const MARGIN: f64 = 16.0;

/// A node's top-left corner.
#[derive(Clone, Debug, PartialEq)]
pub struct PlacedNode {
    pub id: String,
    pub x: f64,
    pub y: f64,
}

/// An edge as an SVG path (`d`), from the right side of `from` to the left of `to`.
#[derive(Clone, Debug, PartialEq)]
pub struct PlacedEdge {
    pub from: String,
    pub to: String,
    pub path: String,
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct GraphLayout {
    /// In the order of the graph's nodes.
    pub nodes: Vec<PlacedNode>,
    pub edges: Vec<PlacedEdge>,
    pub width: f64,
    pub height: f64,
}

/// Lays out `graph` left to right.
pub fn layout(graph: &RunGraph) -> GraphLayout {
    let count = graph.nodes.len();
    if count == 0 {
        return GraphLayout::default();
    }
    let topology = Topology::new(graph);
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

    let mut placed: Vec<Option<(f64, f64)>> = vec![None; count];
    let mut top = MARGIN;
    let mut width: f64 = 0.0;
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
            placed[dag[*index]] = Some((x, y));
            bottom = bottom.max(y + NODE_HEIGHT);
            width = width.max(x + NODE_WIDTH + MARGIN);
        }
        top = bottom + COMPONENT_GAP;
    }

    let nodes: Vec<PlacedNode> = graph
        .nodes
        .iter()
        .zip(&placed)
        .map(|(node, at)| {
            let (x, y) = at.unwrap_or((MARGIN, MARGIN));
            PlacedNode {
                id: node.id.clone(),
                x,
                y,
            }
        })
        .collect();
    let edges = (0..count)
        .flat_map(|to| {
            let nodes = &nodes;
            topology
                .dependencies(to)
                .iter()
                .map(move |&from| PlacedEdge {
                    from: nodes[from].id.clone(),
                    to: nodes[to].id.clone(),
                    path: curve(&nodes[from], &nodes[to]),
                })
        })
        .collect();
    GraphLayout {
        nodes,
        edges,
        width,
        height: top - COMPONENT_GAP + MARGIN,
    }
}

/// A cubic curve leaving `from` rightwards and entering `to` from the left.
fn curve(from: &PlacedNode, to: &PlacedNode) -> String {
    let (x1, y1) = (from.x + NODE_WIDTH, from.y + NODE_HEIGHT / 2.0);
    let (x2, y2) = (to.x, to.y + NODE_HEIGHT / 2.0);
    let bend = ((x2 - x1) / 2.0).max(24.0);
    format!(
        "M{x1:.1},{y1:.1} C{:.1},{y1:.1} {:.1},{y2:.1} {x2:.1},{y2:.1}",
        x1 + bend,
        x2 - bend
    )
}

#[cfg(test)]
mod tests;
