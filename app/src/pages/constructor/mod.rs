//! The Constructor: draw a pipeline, set each job's gate, see it validated and as YAML,
//! save it, deploy it. The model (drafts, edits, undo) is `crate::constructor`; this
//! page draws it and turns input into edits.

mod canvas;
mod gate_form_editor;
mod pipeline_fields;
mod preview;
mod sidebar;
mod toolbar;

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{load_draft, save_draft};
use crate::constructor::{Draft, DraftEdge, FieldProblem, History};
use crate::domain::{Pipeline, ValidationError, validate};
use crate::ui::is_typing;

/// Autosave waits this long after the last change.
const AUTOSAVE_DELAY_MS: u32 = 2000;

/// Where the draft stands with the server.
#[derive(Clone, Debug, PartialEq)]
pub enum SaveState {
    Saved,
    Unsaved,
    Saving,
    Failed(String),
}

/// The pipeline the canvas describes, and everything wrong with it.
#[derive(Clone, Debug, PartialEq)]
pub struct Check {
    pub pipeline: Pipeline,
    pub fields: Vec<FieldProblem>,
    pub errors: Vec<ValidationError>,
}

impl Check {
    pub fn is_valid(&self) -> bool {
        self.fields.is_empty() && self.errors.is_empty()
    }

    pub fn count(&self) -> usize {
        self.fields.len() + self.errors.len()
    }
}

/// The editor's state, shared by the parts of the page.
#[derive(Clone, Copy)]
pub struct Editor {
    pub draft: RwSignal<Draft>,
    history: StoredValue<History>,
    pub selected: RwSignal<Vec<u32>>,
    pub selected_edges: RwSignal<Vec<DraftEdge>>,
    pub save_state: RwSignal<SaveState>,
    /// Goes up with every change; autosave waits for it to settle.
    revision: RwSignal<u64>,
    pub check: Memo<Check>,
    pub can_undo: RwSignal<bool>,
    pub can_redo: RwSignal<bool>,
}

impl Editor {
    fn new() -> Editor {
        let draft = RwSignal::new(Draft::default());
        let check = Memo::new(move |_| {
            draft.with(|draft| {
                let (pipeline, fields) = draft.to_pipeline();
                let errors = validate(&pipeline).err().map(|e| e.0).unwrap_or_default();
                Check {
                    pipeline,
                    fields,
                    errors,
                }
            })
        });
        Editor {
            draft,
            history: StoredValue::new(History::default()),
            selected: RwSignal::new(Vec::new()),
            selected_edges: RwSignal::new(Vec::new()),
            save_state: RwSignal::new(SaveState::Saved),
            revision: RwSignal::new(0),
            check,
            can_undo: RwSignal::new(false),
            can_redo: RwSignal::new(false),
        }
    }

    /// Applies a structural change (one undo step).
    pub fn edit(&self, change: impl FnOnce(&mut Draft)) {
        let before = self.draft.get_untracked();
        self.history.update_value(|history| history.record(before));
        self.draft.update(change);
        self.changed();
    }

    /// Records `before` as one undo step for a change already applied (a drag).
    pub fn record(&self, before: Draft) {
        self.history.update_value(|history| history.record(before));
        self.changed();
    }

    /// Applies a change to a field (not an undo step).
    pub fn update(&self, change: impl FnOnce(&mut Draft)) {
        self.draft.update(change);
        self.changed();
    }

    /// Replaces the whole draft (load, import); undo goes back to what was there.
    pub fn replace(&self, draft: Draft) {
        self.edit(|current| *current = draft);
        self.selected.set(Vec::new());
        self.selected_edges.set(Vec::new());
    }

    pub fn undo(&self) {
        let current = self.draft.get_untracked();
        if let Some(previous) = self.history.try_update_value(|h| h.undo(current)).flatten() {
            self.draft.set(previous);
            self.changed();
        }
    }

    pub fn redo(&self) {
        let current = self.draft.get_untracked();
        if let Some(next) = self.history.try_update_value(|h| h.redo(current)).flatten() {
            self.draft.set(next);
            self.changed();
        }
    }

    fn changed(&self) {
        self.can_undo
            .set(self.history.with_value(History::can_undo));
        self.can_redo
            .set(self.history.with_value(History::can_redo));
        self.save_state.set(SaveState::Unsaved);
        self.revision.update(|r| *r += 1);
        let (revision, at) = (self.revision, self.revision.get_untracked());
        let (draft, state) = (self.draft, self.save_state);
        // The page may be gone by the time this runs (a deploy navigates away): its
        // signals are then disposed, so every access is a `try_`.
        spawn_local(async move {
            gloo_sleep(AUTOSAVE_DELAY_MS).await;
            if revision.try_get_untracked() != Some(at) {
                return; // changed again since (that change saves), or the page is gone
            }
            let Some(current) = draft.try_get_untracked() else {
                return;
            };
            state.try_set(SaveState::Saving);
            match save_draft(current).await {
                Ok(_) if revision.try_get_untracked() == Some(at) => {
                    state.try_set(SaveState::Saved);
                }
                Ok(_) => {}
                Err(error) => {
                    state.try_set(SaveState::Failed(error.to_string()));
                }
            }
        });
    }

    /// Removes what is selected.
    pub fn delete_selection(&self) {
        let (nodes, edges) = (
            self.selected.get_untracked(),
            self.selected_edges.get_untracked(),
        );
        if nodes.is_empty() && edges.is_empty() {
            return;
        }
        self.edit(|draft| draft.remove(&nodes, &edges));
        self.selected.set(Vec::new());
        self.selected_edges.set(Vec::new());
    }

    pub fn duplicate_selection(&self) {
        let nodes = self.selected.get_untracked();
        if nodes.is_empty() {
            return;
        }
        let mut copies = Vec::new();
        self.edit(|draft| copies = draft.duplicate(&nodes));
        self.selected.set(copies);
    }
}

/// Waits without blocking (only in the browser; on the server it returns at once).
async fn gloo_sleep(ms: u32) {
    #[cfg(feature = "csr")]
    gloo_timers::future::TimeoutFuture::new(ms).await;
    #[cfg(not(feature = "csr"))]
    let _ = ms;
}

#[component]
pub fn ConstructorPage() -> impl IntoView {
    let editor = Editor::new();
    provide_context(editor);

    // Bring back the autosaved draft, if there is one.
    spawn_local(async move {
        if let Ok(Some(draft)) = load_draft().await {
            editor.draft.set(draft);
            editor.save_state.set(SaveState::Saved);
        }
    });

    let keys = window_event_listener(leptos::ev::keydown, move |event| {
        if is_typing(&event) {
            return;
        }
        let control = event.ctrl_key() || event.meta_key();
        match event.key().as_str() {
            "Delete" | "Backspace" => {
                event.prevent_default();
                editor.delete_selection();
            }
            "d" | "D" if control => {
                event.prevent_default();
                editor.duplicate_selection();
            }
            "z" | "Z" if control && event.shift_key() => {
                event.prevent_default();
                editor.redo();
            }
            "z" | "Z" if control => {
                event.prevent_default();
                editor.undo();
            }
            "y" | "Y" if control => {
                event.prevent_default();
                editor.redo();
            }
            _ => {}
        }
    });
    on_cleanup(move || keys.remove());

    view! {
        <section class="page constructor">
            <toolbar::Toolbar/>
            <div class="constructor-body">
                <canvas::Canvas/>
                <sidebar::Sidebar/>
            </div>
            <preview::Preview/>
        </section>
    }
}
