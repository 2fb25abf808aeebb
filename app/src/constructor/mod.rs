//! The Constructor's model: a pipeline being drawn, free of the browser.
//!
//! A [`Draft`] holds nodes with their positions and the edges between them, with every
//! field as the person typed it (so a half-typed timeout is kept, and reported, rather
//! than lost). It converts to a [`crate::domain::Pipeline`] for validation, preview and
//! deploy, and back from a saved pipeline. [`History`] gives undo and redo of structural
//! changes. The page in `pages/constructor` only draws this and forwards input.

mod draft;
mod edit;
mod gate_form_draft;
mod history;

pub use draft::{Draft, DraftEdge, DraftNode, FieldProblem, GRID, Layout};
pub use gate_form_draft::{DraftGateForm, DraftInput};
pub use history::History;
