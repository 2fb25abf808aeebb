//! Long edges cut into steps of one layer: an edge that skips layers gets a placeholder
//! in each layer it crosses. The placeholders are ordered and placed like nodes, so a
//! long edge gets its own room in every column instead of being drawn through the
//! nodes it passes.

use super::components::Component;

/// A component's nodes and placeholders ("vertices"): vertex `i` is node `i` of the
/// component for `i < nodes`, a placeholder past that. Every edge joins adjacent layers.
pub(super) struct Proper {
    pub nodes: usize,
    /// Each vertex's layer.
    pub layer: Vec<usize>,
    /// Each vertex's neighbours in the layer before it.
    pub up: Vec<Vec<usize>>,
    /// Each vertex's neighbours in the layer after it.
    pub down: Vec<Vec<usize>>,
    /// The edges given placeholders: `(from, to, placeholders from left to right)`.
    pub long_edges: Vec<(usize, usize, Vec<usize>)>,
}

impl Proper {
    pub fn len(&self) -> usize {
        self.layer.len()
    }

    pub fn is_placeholder(&self, vertex: usize) -> bool {
        vertex >= self.nodes
    }

    /// How many layers there are.
    pub fn depth(&self) -> usize {
        self.layer.iter().max().map_or(0, |last| last + 1)
    }

    fn add(&mut self, layer: usize) -> usize {
        self.layer.push(layer);
        self.up.push(Vec::new());
        self.down.push(Vec::new());
        self.layer.len() - 1
    }

    fn link(&mut self, from: usize, to: usize) {
        self.down[from].push(to);
        self.up[to].push(from);
    }
}

/// `component` with its nodes in `layer`, long edges cut. Edges that do not go right
/// (only on a cycle) are left out: they are drawn, but do not shape the picture.
pub(super) fn split_long_edges(component: &Component, layer: &[usize]) -> Proper {
    let nodes = component.len();
    let mut proper = Proper {
        nodes,
        layer: layer.to_vec(),
        up: vec![Vec::new(); nodes],
        down: vec![Vec::new(); nodes],
        long_edges: Vec::new(),
    };
    for to in 0..nodes {
        for &from in &component.up[to] {
            if layer[from] >= layer[to] {
                continue;
            }
            let mut previous = from;
            let mut placeholders = Vec::new();
            for between in layer[from] + 1..layer[to] {
                let placeholder = proper.add(between);
                proper.link(previous, placeholder);
                placeholders.push(placeholder);
                previous = placeholder;
            }
            proper.link(previous, to);
            if !placeholders.is_empty() {
                proper.long_edges.push((from, to, placeholders));
            }
        }
    }
    proper
}
