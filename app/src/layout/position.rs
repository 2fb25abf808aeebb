//! Where each vertex goes within its layer (the vertical coordinate).
//!
//! Each vertex wants to be at the mean height of its neighbours in the layer just
//! placed; each layer is then placed as close to those wishes as its order and the gaps
//! allow, in the least-squares sense (an isotonic regression, solved exactly in linear
//! time by pooling adjacent violators). Sweeps alternate rightwards and leftwards, so
//! children centre on their parent and a parent on its children; chains stay on one
//! row, and placeholders weigh more, so long edges run straight.

use super::proper::Proper;
use super::{NODE_GAP, NODE_HEIGHT};

/// Rightward and leftward sweeps; the picture settles within a few.
const ROUNDS: usize = 6;
/// Room between two long edges passing one layer.
const EDGE_GAP: f64 = 14.0;
/// How much more a placeholder's wish counts than a node's: long edges stay straight.
const PLACEHOLDER_PULL: f64 = 4.0;
/// The weight of a vertex with no neighbours on the swept side: it stays about where
/// it is, yet gives way to any vertex that wants its place.
const IDLE: f64 = 1e-3;

/// Each vertex's centre, with `layers` its order; the topmost box's top is at 0.
pub(super) fn centres(proper: &Proper, layers: &[Vec<usize>]) -> Vec<f64> {
    let mut centre = vec![0.0; proper.len()];
    for layer in layers {
        let wishes: Vec<(f64, f64)> = layer.iter().map(|_| (0.0, IDLE)).collect();
        settle(proper, layer, &wishes, &mut centre);
    }
    for round in 0..ROUNDS {
        let rightwards = round % 2 == 0;
        let neighbours = if rightwards { &proper.up } else { &proper.down };
        let indices: Vec<usize> = if rightwards {
            (1..layers.len()).collect()
        } else {
            (0..layers.len().saturating_sub(1)).rev().collect()
        };
        for index in indices {
            let layer = &layers[index];
            let wishes: Vec<(f64, f64)> = layer
                .iter()
                .map(|&at| wish(proper, at, &neighbours[at], &centre))
                .collect();
            settle(proper, layer, &wishes, &mut centre);
        }
    }
    let top = (0..proper.len())
        .map(|at| centre[at] - half_height(proper, at))
        .fold(f64::INFINITY, f64::min);
    // Whole pixels for crisp lines, still never closer than the gaps.
    let mut placed = vec![0.0; proper.len()];
    for layer in layers {
        for (index, &at) in layer.iter().enumerate() {
            let y = (centre[at] - top).round();
            placed[at] = match index {
                0 => y,
                _ => {
                    let above = layer[index - 1];
                    y.max(placed[above] + distance(proper, above, at))
                }
            };
        }
    }
    placed
}

/// Where `at` wants to be and how much that counts.
fn wish(proper: &Proper, at: usize, neighbours: &[usize], centre: &[f64]) -> (f64, f64) {
    if neighbours.is_empty() {
        return (centre[at], IDLE);
    }
    let mean = neighbours.iter().map(|&n| centre[n]).sum::<f64>() / neighbours.len() as f64;
    let pull = if proper.is_placeholder(at) {
        PLACEHOLDER_PULL
    } else {
        1.0
    };
    (mean, pull * neighbours.len() as f64)
}

/// Places `layer` (top to bottom) as near its `wishes` (`(centre, weight)`) as the
/// gaps allow, minimising the weighted sum of squared misses.
fn settle(proper: &Proper, layer: &[usize], wishes: &[(f64, f64)], centre: &mut [f64]) {
    // With `offset` the least distance from the first centre, the gaps say only that
    // `centre - offset` never decreases down the layer: an isotonic regression.
    let mut offsets = Vec::with_capacity(layer.len());
    let mut offset = 0.0;
    for (index, &at) in layer.iter().enumerate() {
        if index > 0 {
            offset += distance(proper, layer[index - 1], at);
        }
        offsets.push(offset);
    }
    // Pooled blocks: (summed weight, summed weight × target, how many vertices).
    let mut blocks: Vec<(f64, f64, usize)> = Vec::with_capacity(layer.len());
    for (&(want, weight), &offset) in wishes.iter().zip(&offsets) {
        blocks.push((weight, weight * (want - offset), 1));
        while blocks.len() > 1 {
            let (w2, s2, n2) = blocks[blocks.len() - 1];
            let (w1, s1, n1) = blocks[blocks.len() - 2];
            if s1 / w1 <= s2 / w2 {
                break;
            }
            blocks.pop();
            let last = blocks.len() - 1;
            blocks[last] = (w1 + w2, s1 + s2, n1 + n2);
        }
    }
    let mut index = 0;
    for (weight, sum, members) in blocks {
        for _ in 0..members {
            centre[layer[index]] = sum / weight + offsets[index];
            index += 1;
        }
    }
}

/// The least distance between the centres of `a` and `b`, neighbours in a layer.
fn distance(proper: &Proper, a: usize, b: usize) -> f64 {
    let gap = if proper.is_placeholder(a) && proper.is_placeholder(b) {
        EDGE_GAP
    } else {
        NODE_GAP
    };
    half_height(proper, a) + gap + half_height(proper, b)
}

/// A node's half height; a placeholder is a line.
fn half_height(proper: &Proper, at: usize) -> f64 {
    if proper.is_placeholder(at) {
        0.0
    } else {
        NODE_HEIGHT / 2.0
    }
}
