//! Counting edge crossings between two adjacent layers in `O(E log V)`: sort the edges
//! by their upper end, then every pair whose lower ends come in the other order
//! crosses, counted with a Fenwick tree.

use super::proper::Proper;

/// Crossings of the edges from `upper` to the next layer, with `slot` each vertex's
/// place in its layer and `below` the size of the next layer.
pub(super) fn between(proper: &Proper, upper: &[usize], slot: &[usize], below: usize) -> u64 {
    let mut ends: Vec<(usize, usize)> = upper
        .iter()
        .flat_map(|&from| proper.down[from].iter().map(move |&to| (from, to)))
        .map(|(from, to)| (slot[from], slot[to]))
        .collect();
    ends.sort_unstable();
    // tree[i] counts the edges seen so far ending at slots covered by i (1-based).
    let mut tree = vec![0u64; below + 1];
    let mut crossings = 0;
    for (seen, &(_, end)) in ends.iter().enumerate() {
        // Edges seen before that end at or left of `end` do not cross this one.
        let mut at_or_left = 0;
        let mut i = end + 1;
        while i > 0 {
            at_or_left += tree[i];
            i &= i - 1;
        }
        crossings += seen as u64 - at_or_left;
        let mut i = end + 1;
        while i <= below {
            tree[i] += 1;
            i += i & i.wrapping_neg();
        }
    }
    crossings
}

/// All crossings of `layers` (vertices top to bottom in each layer).
pub(super) fn total(proper: &Proper, layers: &[Vec<usize>], slot: &[usize]) -> u64 {
    layers
        .windows(2)
        .map(|pair| between(proper, &pair[0], slot, pair[1].len()))
        .sum()
}
