//! The layout of big graphs: cheap enough for thousands of nodes in the browser.
//!
//! `rust-sugiyama`'s network-simplex ranking and Brandes-Koepf placement take seconds
//! at a few thousand nodes (see the `domain` bench), so past [`super::BIG_GRAPH`] nodes
//! the picture is made in `O(E log V)` steps instead: longest-path layers, a few
//! barycentric sweeps to reduce crossings, and each node placed as near the middle of
//! what it depends on as its layer leaves room for, so chains stay on one row.
//! Components are stacked from top to bottom in graph order, as for small graphs.

use crate::domain::{RunGraph, Topology};

use super::{COMPONENT_GAP, LAYER_GAP, MARGIN, NODE_GAP, NODE_HEIGHT, NODE_WIDTH};

/// Down and up passes of the barycentric ordering; more change little past this.
const SWEEPS: usize = 4;

/// Top-left corners of `graph`'s nodes, in the order of its nodes.
pub(super) fn place(graph: &RunGraph, topology: &Topology) -> Vec<(f64, f64)> {
    let count = graph.nodes.len();
    // A cycle cannot come from `expand`; should one arrive anyway, graph order stands in.
    let order = graph
        .topological_order()
        .unwrap_or_else(|| (0..count).collect());
    let layer = layers(topology, &order);
    let component = components(topology, count);

    let mut placed = vec![(MARGIN, MARGIN); count];
    let mut top = MARGIN;
    for members in component {
        let bottom = place_component(topology, &order, &layer, &members, top, &mut placed);
        top = bottom + COMPONENT_GAP;
    }
    placed
}

/// Each node's layer: one past the deepest of its dependencies (0 for a source).
fn layers(topology: &Topology, order: &[usize]) -> Vec<usize> {
    let mut layer = vec![0; order.len()];
    let mut done = vec![false; order.len()];
    for &at in order {
        layer[at] = topology
            .dependencies(at)
            .iter()
            .filter(|&&from| done[from])
            .map(|&from| layer[from] + 1)
            .max()
            .unwrap_or(0);
        done[at] = true;
    }
    layer
}

/// The weakly connected components, each a list of positions in graph order, ordered
/// by their first node.
fn components(topology: &Topology, count: usize) -> Vec<Vec<usize>> {
    let mut root: Vec<usize> = (0..count).collect();
    fn find(root: &mut [usize], mut at: usize) -> usize {
        while root[at] != at {
            root[at] = root[root[at]];
            at = root[at];
        }
        at
    }
    for to in 0..count {
        for &from in topology.dependencies(to) {
            let (a, b) = (find(&mut root, from), find(&mut root, to));
            // The smaller position is the root, so components come out in graph order.
            if a != b {
                root[a.max(b)] = a.min(b);
            }
        }
    }
    let mut slot = vec![usize::MAX; count];
    let mut members: Vec<Vec<usize>> = Vec::new();
    for at in 0..count {
        let head = find(&mut root, at);
        if slot[head] == usize::MAX {
            slot[head] = members.len();
            members.push(Vec::new());
        }
        members[slot[head]].push(at);
    }
    members
}

/// Places one component with its top at `top`; returns its bottom edge.
fn place_component(
    topology: &Topology,
    order: &[usize],
    layer: &[usize],
    members: &[usize],
    top: f64,
    placed: &mut [(f64, f64)],
) -> f64 {
    let depth = members.iter().map(|&at| layer[at]).max().unwrap_or(0) + 1;
    let mut layers: Vec<Vec<usize>> = vec![Vec::new(); depth];
    // Topological order first: a node then sits near the nodes placed before it.
    let mut rank_in_order = vec![0; layer.len()];
    for (rank, &at) in order.iter().enumerate() {
        rank_in_order[at] = rank;
    }
    let mut sorted = members.to_vec();
    sorted.sort_by_key(|&at| rank_in_order[at]);
    for at in sorted {
        layers[layer[at]].push(at);
    }
    reduce_crossings(topology, &mut layers, layer.len());

    let step = NODE_HEIGHT + NODE_GAP;
    let mut bottom = top;
    for (depth, nodes) in layers.iter().enumerate() {
        let x = MARGIN + depth as f64 * (NODE_WIDTH + LAYER_GAP);
        // Where each node would like to be; in that order (ties in the swept order) no
        // node pushes a later one far below where it wants to be.
        let mut wanted: Vec<(f64, usize)> = nodes
            .iter()
            .map(|&at| {
                let middle = mean(topology.dependencies(at).iter().map(|&from| placed[from].1));
                (middle.unwrap_or(f64::NEG_INFINITY), at)
            })
            .collect();
        wanted.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut next_free = top;
        for (wanted, at) in wanted {
            let y = wanted.max(next_free);
            placed[at] = (x, y);
            next_free = y + step;
        }
        bottom = bottom.max(next_free - NODE_GAP);
    }
    bottom
}

/// Reorders each layer by the mean rank of its neighbours in the layers before it
/// (down) or after it (up), keeping the current order where there is none.
fn reduce_crossings(topology: &Topology, layers: &mut [Vec<usize>], count: usize) {
    let mut rank = vec![0.0; count];
    let rank_layer = |rank: &mut [f64], nodes: &[usize]| {
        for (index, &at) in nodes.iter().enumerate() {
            rank[at] = index as f64;
        }
    };
    for nodes in layers.iter() {
        rank_layer(&mut rank, nodes);
    }
    for sweep in 0..SWEEPS {
        let down = sweep % 2 == 0;
        let indices: Vec<usize> = if down {
            (1..layers.len()).collect()
        } else {
            (0..layers.len().saturating_sub(1)).rev().collect()
        };
        for index in indices {
            let nodes = &mut layers[index];
            let mut keyed: Vec<(f64, usize)> = nodes
                .iter()
                .map(|&at| {
                    let neighbours = if down {
                        topology.dependencies(at)
                    } else {
                        topology.dependents(at)
                    };
                    let key = mean(neighbours.iter().map(|&other| rank[other]));
                    (key.unwrap_or(rank[at]), at)
                })
                .collect();
            // Stable, and ties keep the current order: the same input, the same picture.
            keyed.sort_by(|a, b| a.0.total_cmp(&b.0));
            *nodes = keyed.into_iter().map(|(_, at)| at).collect();
            rank_layer(&mut rank, nodes);
        }
    }
}

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, count) = values.fold((0.0, 0usize), |(sum, count), v| (sum + v, count + 1));
    (count > 0).then(|| sum / count as f64)
}
