//! Where each node of a run graph is drawn: layered left to right, every job after what
//! it depends on, long edges routed around the nodes they pass, crossings reduced, and
//! each node centred on what it is joined to.
//!
//! The steps, one file each: [`components`] (laid out apart, stacked top to bottom in
//! graph order), [`rank`] (the layer of each node), [`proper`] (placeholders on long
//! edges), [`order`] (few crossings, counted by [`crossings`]) and [`position`] (the
//! height in a layer). Every step is about `O(E log V)`, so a 5,000-node run lays out
//! in the browser in milliseconds. Pure and deterministic, so the browser and the tests
//! get the same picture.

use std::collections::HashMap;

use crate::domain::{RunGraph, Topology};

mod components;
mod crossings;
pub mod grid;
mod order;
mod position;
mod proper;
mod rank;

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
    /// Where the edge crosses each layer between its ends (the left end of a straight
    /// run as wide as a node), from left to right; empty between adjacent layers.
    pub via: Vec<(f64, f64)>,
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

/// The points long edges pass, by `(from, to)` positions in the graph.
type Vias = HashMap<(usize, usize), Vec<(f64, f64)>>;

/// Lays out `graph` left to right.
pub fn layout(graph: &RunGraph) -> GraphLayout {
    let count = graph.nodes.len();
    if count == 0 {
        return GraphLayout::default();
    }
    let topology = Topology::new(graph);
    let mut placed = vec![(MARGIN, MARGIN); count];
    let mut vias = Vias::new();
    let mut top = MARGIN;
    for component in components::components(&topology, count) {
        let bottom = place_component(&component, top, &mut placed, &mut vias);
        top = bottom + COMPONENT_GAP;
    }
    assemble(graph, &topology, &placed, &mut vias)
}

/// Places one component with its top at `top`; returns its bottom edge.
fn place_component(
    component: &components::Component,
    top: f64,
    placed: &mut [(f64, f64)],
    vias: &mut Vias,
) -> f64 {
    let layer = rank::layers(component);
    let proper = proper::split_long_edges(component, &layer);
    let layers = order::order(&proper);
    let centre = position::centres(&proper, &layers);
    let x = |layer: usize| MARGIN + layer as f64 * (NODE_WIDTH + LAYER_GAP);
    for (local, &at) in component.members.iter().enumerate() {
        placed[at] = (x(layer[local]), top + centre[local] - NODE_HEIGHT / 2.0);
    }
    for (from, to, placeholders) in &proper.long_edges {
        let points = placeholders
            .iter()
            .map(|&p| (x(proper.layer[p]), top + centre[p]))
            .collect();
        vias.insert((component.members[*from], component.members[*to]), points);
    }
    (0..proper.len())
        .map(|at| {
            let half = if proper.is_placeholder(at) {
                0.0
            } else {
                NODE_HEIGHT / 2.0
            };
            top + centre[at] + half
        })
        .fold(top, f64::max)
}

/// The nodes at `placed` (top-left corners in graph order), their edges and the size.
fn assemble(
    graph: &RunGraph,
    topology: &Topology,
    placed: &[(f64, f64)],
    vias: &mut Vias,
) -> GraphLayout {
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
    let mut edges = Vec::new();
    for to in 0..count {
        for &from in topology.dependencies(to) {
            let via = vias.remove(&(from, to)).unwrap_or_default();
            edges.push(PlacedEdge {
                from: nodes[from].id.clone(),
                to: nodes[to].id.clone(),
                ends: (from, to),
                path: route(&nodes[from], &via, &nodes[to]),
                via,
            });
        }
    }
    let width = nodes
        .iter()
        .map(|n| n.x + NODE_WIDTH + MARGIN)
        .fold(0.0, f64::max);
    let height = nodes
        .iter()
        .map(|n| n.y + NODE_HEIGHT)
        .chain(edges.iter().flat_map(|e| e.via.iter().map(|&(_, y)| y)))
        .fold(0.0, f64::max)
        + MARGIN;
    GraphLayout {
        nodes,
        edges,
        width,
        height,
    }
}

/// The SVG path of an edge: a curve from the right side of `from` to each point of
/// `via`, straight across that layer, and a curve on into the left side of `to`.
fn route(from: &PlacedNode, via: &[(f64, f64)], to: &PlacedNode) -> String {
    let mut start = (from.x + NODE_WIDTH, from.y + NODE_HEIGHT / 2.0);
    let mut path = format!("M{:.1},{:.1}", start.0, start.1);
    for &(x, y) in via {
        curve(&mut path, start, (x, y));
        path.push_str(&format!(" L{:.1},{y:.1}", x + NODE_WIDTH));
        start = (x + NODE_WIDTH, y);
    }
    curve(&mut path, start, (to.x, to.y + NODE_HEIGHT / 2.0));
    path
}

/// A cubic curve from `(x1, y1)` leaving rightwards to `(x2, y2)`, entered from the left.
fn curve(path: &mut String, (x1, y1): (f64, f64), (x2, y2): (f64, f64)) {
    let bend = ((x2 - x1) / 2.0).max(24.0);
    path.push_str(&format!(
        " C{:.1},{y1:.1} {:.1},{y2:.1} {x2:.1},{y2:.1}",
        x1 + bend,
        x2 - bend
    ));
}

#[cfg(test)]
mod tests;
