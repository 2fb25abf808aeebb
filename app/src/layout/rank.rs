//! Which layer (column) each node goes in: every node after all it depends on, and no
//! edge longer than it needs to be.
//!
//! Layers start as the longest path from a source. That leaves a source which feeds
//! only late jobs (a `lint` next to a long build) in the first column with long edges
//! across the picture, so afterwards each node with more edges out than in is pulled
//! right to just before its first dependent: fewer, shorter long edges.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::components::Component;

/// Each node's layer, from 0. An edge of a cycle (never in a graph from `expand`) may
/// end in the same or an earlier layer; the rest go strictly right.
pub(super) fn layers(component: &Component) -> Vec<usize> {
    let order = topological(component);
    let mut rank = vec![0; component.len()];
    for (index, &at) in order.iter().enumerate() {
        rank[at] = index;
    }
    let mut layer = vec![0; component.len()];
    for &at in &order {
        layer[at] = component.up[at]
            .iter()
            .filter(|&&from| rank[from] < rank[at])
            .map(|&from| layer[from] + 1)
            .max()
            .unwrap_or(0);
    }
    // Dependents first, so a node is pulled right to where its dependents already are.
    for &at in order.iter().rev() {
        let ins = component.up[at]
            .iter()
            .filter(|&&from| rank[from] < rank[at])
            .count();
        let outs = component.down[at].iter().filter(|&&to| rank[at] < rank[to]);
        if outs.clone().count() > ins
            && let Some(first) = outs.map(|&to| layer[to]).min()
        {
            layer[at] = layer[at].max(first - 1);
        }
    }
    layer
}

/// The nodes with each after its dependencies, ties in component order; nodes on a
/// cycle come last, in component order.
fn topological(component: &Component) -> Vec<usize> {
    let count = component.len();
    let mut waiting: Vec<usize> = component.up.iter().map(Vec::len).collect();
    let mut ready: BinaryHeap<Reverse<usize>> = (0..count)
        .filter(|&at| waiting[at] == 0)
        .map(Reverse)
        .collect();
    let mut order = Vec::with_capacity(count);
    let mut placed = vec![false; count];
    while let Some(Reverse(at)) = ready.pop() {
        order.push(at);
        placed[at] = true;
        for &next in &component.down[at] {
            waiting[next] -= 1;
            if waiting[next] == 0 {
                ready.push(Reverse(next));
            }
        }
    }
    order.extend((0..count).filter(|&at| !placed[at]));
    order
}
