//! The structural edits of the canvas. Each returns what it changed so the page can
//! select it; none of them records history (the caller does, once per gesture).

use std::collections::{HashMap, HashSet};

use super::draft::{Draft, DraftEdge, DraftNode, snap};

/// How far a duplicate is placed from its original.
const DUPLICATE_OFFSET: f64 = 40.0;

impl Draft {
    /// Adds a job at (x, y) with a fresh id (`job_1`, `job_2`, ...) and returns its key.
    pub fn add_node(&mut self, x: f64, y: f64) -> u32 {
        let id = self.fresh_id("job");
        self.push_node(DraftNode::new(0, id, snap(x), snap(y)))
    }

    fn push_node(&mut self, mut node: DraftNode) -> u32 {
        node.key = self.next_key;
        self.next_key += 1;
        let key = node.key;
        self.nodes.push(node);
        key
    }

    /// `base_1`, `base_2`, ...: the first that no node uses.
    fn fresh_id(&self, base: &str) -> String {
        let taken: HashSet<&str> = self.nodes.iter().map(|n| n.id.as_str()).collect();
        (1..)
            .map(|n| format!("{base}_{n}"))
            .find(|id| !taken.contains(id.as_str()))
            .unwrap_or_else(|| base.to_string())
    }

    /// Moves the nodes by (dx, dy), each ending on the grid.
    pub fn move_nodes(&mut self, keys: &[u32], dx: f64, dy: f64) {
        for node in self.nodes.iter_mut().filter(|n| keys.contains(&n.key)) {
            node.x = snap((node.x + dx).max(0.0));
            node.y = snap((node.y + dy).max(0.0));
        }
    }

    /// Makes `to` depend on `from`. Refused (false) for a node on itself, an edge that
    /// exists, or an unknown node; a cycle is allowed here and reported by validation.
    pub fn connect(&mut self, from: u32, to: u32) -> bool {
        let edge = DraftEdge { from, to };
        let known = self.node(from).is_some() && self.node(to).is_some();
        if from == to || !known || self.edges.contains(&edge) {
            return false;
        }
        self.edges.push(edge);
        true
    }

    /// Removes the nodes (with their edges) and the edges given.
    pub fn remove(&mut self, nodes: &[u32], edges: &[DraftEdge]) {
        self.nodes.retain(|node| !nodes.contains(&node.key));
        self.edges.retain(|edge| {
            !edges.contains(edge) && !nodes.contains(&edge.from) && !nodes.contains(&edge.to)
        });
    }

    /// Copies the nodes (ids get `_copy`, positions move down-right) and the edges
    /// among them; returns the new keys.
    pub fn duplicate(&mut self, keys: &[u32]) -> Vec<u32> {
        let originals: Vec<DraftNode> = self
            .nodes
            .iter()
            .filter(|node| keys.contains(&node.key))
            .cloned()
            .collect();
        let mut copies: HashMap<u32, u32> = HashMap::new();
        for original in originals {
            let id = self.fresh_id(&format!("{}_copy", original.id));
            let copy = DraftNode {
                id,
                x: snap(original.x + DUPLICATE_OFFSET),
                y: snap(original.y + DUPLICATE_OFFSET),
                ..original.clone()
            };
            copies.insert(original.key, self.push_node(copy));
        }
        let inner: Vec<DraftEdge> = self
            .edges
            .iter()
            .filter_map(|edge| {
                Some(DraftEdge {
                    from: *copies.get(&edge.from)?,
                    to: *copies.get(&edge.to)?,
                })
            })
            .collect();
        self.edges.extend(inner);
        let mut added: Vec<u32> = copies.into_values().collect();
        added.sort_unstable();
        added
    }

    /// Nodes whose box of `width` x `height` lies inside the rectangle between the two
    /// corners (in any order).
    pub fn nodes_in(&self, a: (f64, f64), b: (f64, f64), width: f64, height: f64) -> Vec<u32> {
        let (left, right) = (a.0.min(b.0), a.0.max(b.0));
        let (top, bottom) = (a.1.min(b.1), a.1.max(b.1));
        self.nodes
            .iter()
            .filter(|n| n.x >= left && n.y >= top && n.x + width <= right && n.y + height <= bottom)
            .map(|n| n.key)
            .collect()
    }
}
