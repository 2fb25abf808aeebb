//! Where each node of a run graph is drawn: layered left to right, every job after what
//! it depends on, with crossings reduced.
//!
//! Up to [`BIG_GRAPH`] nodes the layering, crossing minimisation and placement are
//! `rust-sugiyama`'s ([`sugiyama`]); past that, a cheaper layered layout of our own
//! ([`layered`]) keeps thousands of nodes fast. Separate components are stacked from top
//! to bottom in graph order. Pure and deterministic, so the browser and the tests get
//! the same picture.

use crate::domain::{RunGraph, Topology};

pub mod grid;
mod layered;
mod sugiyama;

/// Past this many nodes `rust-sugiyama` can take too long for a page load: on a random
/// DAG with two dependencies a node it takes 0.9 s at 1,000 nodes and 25 s at 5,000
/// (release, natively; the `domain` bench), so the cheaper layered layout takes over.
pub const BIG_GRAPH: usize = 500;
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
    /// Positions of `from` and `to` in the graph's nodes.
    pub ends: (usize, usize),
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

/// How a graph is laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// `rust-sugiyama`: the tidiest picture, too slow past [`BIG_GRAPH`] nodes.
    Sugiyama,
    /// Longest-path layers and barycentric ordering: fast at any size.
    Layered,
}

/// Lays out `graph` left to right, with the method that suits its size.
pub fn layout(graph: &RunGraph) -> GraphLayout {
    let method = if graph.nodes.len() > BIG_GRAPH {
        Method::Layered
    } else {
        Method::Sugiyama
    };
    layout_with(graph, method)
}

/// Lays out `graph` left to right with `method`.
pub fn layout_with(graph: &RunGraph, method: Method) -> GraphLayout {
    let count = graph.nodes.len();
    if count == 0 {
        return GraphLayout::default();
    }
    let topology = Topology::new(graph);
    let placed = match method {
        Method::Sugiyama => sugiyama::place(&topology, count),
        Method::Layered => layered::place(graph, &topology),
    };
    assemble(graph, &topology, &placed)
}

/// The nodes at `placed` (top-left corners in graph order), their edges and the size.
fn assemble(graph: &RunGraph, topology: &Topology, placed: &[(f64, f64)]) -> GraphLayout {
    let count = graph.nodes.len();
    let nodes: Vec<PlacedNode> = graph
        .nodes
        .iter()
        .zip(placed)
        .map(|(node, &(x, y))| PlacedNode {
            id: node.id.clone(),
            x,
            y,
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
                    ends: (from, to),
                    path: curve(&nodes[from], &nodes[to]),
                })
        })
        .collect();
    let width = nodes
        .iter()
        .map(|n| n.x + NODE_WIDTH + MARGIN)
        .fold(0.0, f64::max);
    let height = nodes
        .iter()
        .map(|n| n.y + NODE_HEIGHT + MARGIN)
        .fold(0.0, f64::max);
    GraphLayout {
        nodes,
        edges,
        width,
        height,
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
