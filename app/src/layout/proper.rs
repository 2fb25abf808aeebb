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

/// The most placeholders a component gets. A long chain whose every job also depends
/// on one `setup` job would need one per layer per edge (12 million for 5,000 jobs);
/// past the budget the longest edges are drawn straight, as nothing else would be fast.
const PLACEHOLDER_BUDGET: usize = 100_000;

/// `component` with its nodes in `layer`, long edges cut (shortest first, within
/// [`PLACEHOLDER_BUDGET`]). Edges that do not go right (only on a cycle) or past the
/// budget are left out: they are drawn, but do not shape the picture.
pub(super) fn split_long_edges(component: &Component, layer: &[usize]) -> Proper {
    let mut spans: Vec<usize> = (0..component.len())
        .flat_map(|to| component.up[to].iter().map(move |&from| (from, to)))
        .filter(|&(from, to)| layer[from] < layer[to])
        .map(|(from, to)| layer[to] - layer[from] - 1)
        .collect();
    spans.sort_unstable();
    let mut longest = usize::MAX;
    let mut spent = 0usize;
    for span in spans {
        spent += span;
        if spent > PLACEHOLDER_BUDGET {
            // Edges this long or longer are left straight (ties all go, for determinism).
            longest = span - 1;
            break;
        }
    }
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
            if layer[from] >= layer[to] || layer[to] - layer[from] - 1 > longest {
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
