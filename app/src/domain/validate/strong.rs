//! Strongly connected groups of a small directed graph (Kosaraju's two passes, without
//! recursion so a long chain cannot overflow the stack): the jobs that depend on each
//! other in a circle.

/// The groups of nodes `0..next.len()` (with `next[a]` the nodes `a` points to) in
/// which every node reaches every other; a node on no cycle is a group of its own.
pub(super) fn groups(next: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let count = next.len();
    // First pass: the order in which depth-first walks finish with each node.
    let mut finished = Vec::with_capacity(count);
    let mut seen = vec![false; count];
    for start in 0..count {
        if seen[start] {
            continue;
        }
        seen[start] = true;
        // (node, how many of its edges are walked)
        let mut stack = vec![(start, 0)];
        while let Some(top) = stack.last_mut() {
            let (at, walked) = *top;
            if let Some(&to) = next[at].get(walked) {
                top.1 += 1;
                if !seen[to] {
                    seen[to] = true;
                    stack.push((to, 0));
                }
            } else {
                finished.push(at);
                stack.pop();
            }
        }
    }
    // Second pass, against the edges, latest finished first: each walk is one group.
    let mut before = vec![Vec::new(); count];
    for (from, targets) in next.iter().enumerate() {
        for &to in targets {
            before[to].push(from);
        }
    }
    let mut group_of = vec![usize::MAX; count];
    let mut groups = Vec::new();
    for &start in finished.iter().rev() {
        if group_of[start] != usize::MAX {
            continue;
        }
        let mut members = vec![start];
        group_of[start] = groups.len();
        let mut stack = vec![start];
        while let Some(at) = stack.pop() {
            for &from in &before[at] {
                if group_of[from] == usize::MAX {
                    group_of[from] = groups.len();
                    members.push(from);
                    stack.push(from);
                }
            }
        }
        groups.push(members);
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::groups;

    fn sorted(mut found: Vec<Vec<usize>>) -> Vec<Vec<usize>> {
        for group in &mut found {
            group.sort_unstable();
        }
        found.sort();
        found
    }

    #[test]
    fn a_dag_has_only_single_nodes() {
        let next = vec![vec![1, 2], vec![2], vec![]];
        assert_eq!(sorted(groups(&next)), [vec![0], vec![1], vec![2]]);
    }

    #[test]
    fn circles_are_grouped() {
        // 0 -> 1 -> 2 -> 0, 2 -> 3, 3 <-> 4, 5 alone.
        let next = vec![vec![1], vec![2], vec![0, 3], vec![4], vec![3], vec![]];
        assert_eq!(sorted(groups(&next)), [vec![0, 1, 2], vec![3, 4], vec![5]]);
    }

    #[test]
    fn a_long_chain_does_not_overflow_the_stack() {
        let mut next: Vec<Vec<usize>> = (1..100_000).map(|to| vec![to]).collect();
        next.push(vec![0]);
        assert_eq!(groups(&next).len(), 1);
    }
}
