//! The order of the vertices within each layer, chosen for few crossings.
//!
//! A depth-first walk gives a first order that keeps what belongs together together;
//! then sweeps right and left sort each layer by the mean place of its neighbours in
//! the layer just swept (the barycentre heuristic), the order with the fewest crossings
//! is kept, and last, neighbours in a layer swap wherever that alone removes crossings.
//! Every step is `O(E log V)`, so big graphs stay fast.

use super::crossings;
use super::proper::Proper;

/// Sweeps, alternately rightwards and leftwards; more change little past this.
const SWEEPS: usize = 8;
/// Passes of swapping neighbours, at most.
const SWAP_PASSES: usize = 4;

/// Each layer's vertices from top to bottom.
pub(super) fn order(proper: &Proper) -> Vec<Vec<usize>> {
    let mut layers = first_order(proper);
    let mut slot = vec![0; proper.len()];
    number(&layers, &mut slot);
    let mut fewest = crossings::total(proper, &layers, &slot);
    let mut best = layers.clone();
    for sweep in 0..SWEEPS {
        if fewest == 0 {
            break;
        }
        let rightwards = sweep % 2 == 0;
        let indices: Vec<usize> = if rightwards {
            (1..layers.len()).collect()
        } else {
            (0..layers.len().saturating_sub(1)).rev().collect()
        };
        for index in indices {
            let neighbours = if rightwards { &proper.up } else { &proper.down };
            sort_by_barycentre(&mut layers[index], neighbours, &mut slot);
        }
        let now = crossings::total(proper, &layers, &slot);
        if now < fewest {
            fewest = now;
            best = layers.clone();
        }
    }
    number(&best, &mut slot);
    for _ in 0..SWAP_PASSES {
        if fewest == 0 || !swap_neighbours(proper, &mut best, &mut slot) {
            break;
        }
    }
    best
}

/// Vertices in the order a depth-first walk from each source (in component order)
/// first reaches them: a node's dependents start out next to each other.
fn first_order(proper: &Proper) -> Vec<Vec<usize>> {
    let mut layers = vec![Vec::new(); proper.depth()];
    let mut seen = vec![false; proper.len()];
    for start in 0..proper.nodes {
        if seen[start] {
            continue;
        }
        let mut stack = vec![start];
        seen[start] = true;
        while let Some(at) = stack.pop() {
            layers[proper.layer[at]].push(at);
            // Reversed onto the stack, so the first dependent is visited first.
            for &next in proper.down[at].iter().rev() {
                if !seen[next] {
                    seen[next] = true;
                    stack.push(next);
                }
            }
        }
    }
    layers
}

/// Sorts `layer` by the mean slot of each vertex's `neighbours`; a vertex without any
/// keeps its own slot. The sort is stable: the same input, the same order.
fn sort_by_barycentre(layer: &mut Vec<usize>, neighbours: &[Vec<usize>], slot: &mut [usize]) {
    let mut keyed: Vec<(f64, usize)> = layer
        .iter()
        .map(|&at| {
            let around = &neighbours[at];
            let key = if around.is_empty() {
                slot[at] as f64
            } else {
                around.iter().map(|&n| slot[n] as f64).sum::<f64>() / around.len() as f64
            };
            (key, at)
        })
        .collect();
    keyed.sort_by(|a, b| a.0.total_cmp(&b.0));
    *layer = keyed.into_iter().map(|(_, at)| at).collect();
    for (index, &at) in layer.iter().enumerate() {
        slot[at] = index;
    }
}

/// One pass over every layer, swapping two neighbours wherever their edges cross less
/// the other way round; whether anything moved.
fn swap_neighbours(proper: &Proper, layers: &mut [Vec<usize>], slot: &mut [usize]) -> bool {
    let mut moved = false;
    for layer in layers.iter_mut() {
        for index in 1..layer.len() {
            let (a, b) = (layer[index - 1], layer[index]);
            let now = crossed(proper, a, b, slot);
            let swapped = crossed(proper, b, a, slot);
            if swapped < now {
                layer.swap(index - 1, index);
                slot[a] = index;
                slot[b] = index - 1;
                moved = true;
            }
        }
    }
    moved
}

/// Crossings between the edges of `a` and those of `b` when `a` is just above `b`.
fn crossed(proper: &Proper, a: usize, b: usize, slot: &[usize]) -> usize {
    let pairs = |of_a: &[usize], of_b: &[usize]| {
        of_a.iter()
            .map(|&x| of_b.iter().filter(|&&y| slot[y] < slot[x]).count())
            .sum::<usize>()
    };
    pairs(&proper.up[a], &proper.up[b]) + pairs(&proper.down[a], &proper.down[b])
}

fn number(layers: &[Vec<usize>], slot: &mut [usize]) {
    for layer in layers {
        for (index, &at) in layer.iter().enumerate() {
            slot[at] = index;
        }
    }
}
