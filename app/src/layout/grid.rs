//! Which nodes and edges of a layout lie in a rectangle, without looking at all of them:
//! the drawing is cut into square cells, and each cell lists what crosses it. The run
//! page draws only what is in (or near) the frame, so a 5,000-node graph costs what its
//! visible part costs.

use std::collections::HashMap;

use super::{GraphLayout, NODE_HEIGHT, NODE_WIDTH};

/// A rectangle of the drawing: `(left, top, right, bottom)`.
pub type Rect = (f64, f64, f64, f64);

/// A cell's column and row.
pub type Cell = (i64, i64);

pub struct Grid {
    cell: f64,
    nodes: HashMap<Cell, Vec<usize>>,
    edges: HashMap<Cell, Vec<usize>>,
}

impl Grid {
    /// Indexes `layout` in cells of `cell` × `cell` drawing units.
    pub fn new(layout: &GraphLayout, cell: f64) -> Grid {
        let mut grid = Grid {
            cell,
            nodes: HashMap::new(),
            edges: HashMap::new(),
        };
        for (at, node) in layout.nodes.iter().enumerate() {
            let bounds = (node.x, node.y, node.x + NODE_WIDTH, node.y + NODE_HEIGHT);
            for cell in grid.cells(bounds) {
                grid.nodes.entry(cell).or_default().push(at);
            }
        }
        for (at, edge) in layout.edges.iter().enumerate() {
            let (Some(from), Some(to)) =
                (layout.nodes.get(edge.ends.0), layout.nodes.get(edge.ends.1))
            else {
                continue;
            };
            // The path stays within the box around its two ends and the points it passes.
            let bounds = edge.via.iter().fold(
                (
                    from.x.min(to.x),
                    from.y.min(to.y),
                    from.x.max(to.x) + NODE_WIDTH,
                    from.y.max(to.y) + NODE_HEIGHT,
                ),
                |(left, top, right, bottom), &(_, y)| (left, top.min(y), right, bottom.max(y)),
            );
            for cell in grid.cells(bounds) {
                grid.edges.entry(cell).or_default().push(at);
            }
        }
        grid
    }

    /// The cells `rect` touches, as a range: `(first column, first row, last column,
    /// last row)`. Two rectangles with the same range hold the same nodes and edges.
    pub fn range(&self, rect: Rect) -> (Cell, Cell) {
        let (left, top, right, bottom) = rect;
        let at = |value: f64| (value / self.cell).floor() as i64;
        ((at(left), at(top)), (at(right), at(bottom)))
    }

    /// The nodes in the cells of `range`, each once, in graph order.
    pub fn nodes_in(&self, range: (Cell, Cell)) -> Vec<usize> {
        collect(&self.nodes, range)
    }

    /// The edges in the cells of `range`, each once, in layout order.
    pub fn edges_in(&self, range: (Cell, Cell)) -> Vec<usize> {
        collect(&self.edges, range)
    }

    fn cells(&self, rect: Rect) -> impl Iterator<Item = Cell> + use<> {
        let ((left, top), (right, bottom)) = self.range(rect);
        (left..=right).flat_map(move |column| (top..=bottom).map(move |row| (column, row)))
    }
}

fn collect(index: &HashMap<Cell, Vec<usize>>, range: (Cell, Cell)) -> Vec<usize> {
    let ((left, top), (right, bottom)) = range;
    let mut found: Vec<usize> =
        if (right - left + 1).saturating_mul(bottom - top + 1) > index.len() as i64 {
            // Zoomed far out: fewer cells exist than the range spans.
            index
                .iter()
                .filter(|((column, row), _)| {
                    (left..=right).contains(column) && (top..=bottom).contains(row)
                })
                .flat_map(|(_, items)| items.iter().copied())
                .collect()
        } else {
            (left..=right)
                .flat_map(|column| (top..=bottom).map(move |row| (column, row)))
                .filter_map(|cell| index.get(&cell))
                .flat_map(|items| items.iter().copied())
                .collect()
        };
    found.sort_unstable();
    found.dedup();
    found
}

#[cfg(test)]
mod tests;
