//! A graph's weakly connected components: each is laid out on its own and they are
//! stacked from top to bottom, so the ordering of one never tangles another.

use crate::domain::Topology;

/// One component, with its own numbering: node `i` is `members[i]` of the graph.
pub(super) struct Component {
    /// Positions in the graph, in graph order.
    pub members: Vec<usize>,
    /// Each node's dependencies, local numbers.
    pub up: Vec<Vec<usize>>,
    /// Each node's dependents, local numbers.
    pub down: Vec<Vec<usize>>,
}

impl Component {
    pub fn len(&self) -> usize {
        self.members.len()
    }
}

/// The components of the graph's `count` nodes, ordered by their first node.
pub(super) fn components(topology: &Topology, count: usize) -> Vec<Component> {
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
    // Each node's component, and its number there.
    let mut slot = vec![usize::MAX; count];
    let mut place: Vec<(usize, usize)> = Vec::with_capacity(count);
    let mut found: Vec<Component> = Vec::new();
    for at in 0..count {
        let head = find(&mut root, at);
        if slot[head] == usize::MAX {
            slot[head] = found.len();
            found.push(Component {
                members: Vec::new(),
                up: Vec::new(),
                down: Vec::new(),
            });
        }
        let component = &mut found[slot[head]];
        place.push((slot[head], component.members.len()));
        component.members.push(at);
        component.up.push(Vec::new());
        component.down.push(Vec::new());
    }
    for (to, &(which, local)) in place.iter().enumerate() {
        let component = &mut found[which];
        for &from in topology.dependencies(to) {
            let (_, from) = place[from];
            component.up[local].push(from);
            component.down[from].push(local);
        }
    }
    found
}
