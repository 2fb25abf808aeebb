//! Undo and redo of structural changes, as whole-draft snapshots (a draft is small).

use super::draft::Draft;

/// The most steps kept.
const DEPTH: usize = 100;

#[derive(Clone, Debug, Default)]
pub struct History {
    past: Vec<Draft>,
    future: Vec<Draft>,
}

impl History {
    /// Remembers `before`, the draft as it was before a structural change; the redo
    /// steps are dropped.
    pub fn record(&mut self, before: Draft) {
        if self.past.last() != Some(&before) {
            self.past.push(before);
            if self.past.len() > DEPTH {
                self.past.remove(0);
            }
        }
        self.future.clear();
    }

    /// The draft before the last change, given the current one (kept for redo).
    pub fn undo(&mut self, current: Draft) -> Option<Draft> {
        let previous = self.past.pop()?;
        self.future.push(current);
        Some(previous)
    }

    pub fn redo(&mut self, current: Draft) -> Option<Draft> {
        let next = self.future.pop()?;
        self.past.push(current);
        Some(next)
    }

    pub fn can_undo(&self) -> bool {
        !self.past.is_empty()
    }

    pub fn can_redo(&self) -> bool {
        !self.future.is_empty()
    }
}
