//! A call to the server that a person starts (a button, a form): whether it is on its
//! way, and its answer. What Leptos's `Action` gives, without its per-type copy of the
//! framework's async code (see [`super::latest`]).

use std::future::Future;

use leptos::prelude::*;
use leptos::task::spawn_local;

/// The state of one kind of call, shared by the views that show it (`Copy`).
pub struct Call<T: Send + Sync + 'static> {
    pending: RwSignal<bool>,
    answer: RwSignal<Option<T>>,
}

impl<T: Send + Sync + 'static> Clone for Call<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: Send + Sync + 'static> Copy for Call<T> {}

impl<T: Send + Sync + 'static> Call<T> {
    pub fn new() -> Self {
        Call {
            pending: RwSignal::new(false),
            answer: RwSignal::new(None),
        }
    }

    /// Runs `call`; its answer replaces the last one when it comes.
    pub fn start(self, call: impl Future<Output = T> + 'static) {
        self.pending.set(true);
        spawn_local(async move {
            let answer = call.await;
            // Gone when the page was left meanwhile.
            let _ = self.answer.try_set(Some(answer));
            let _ = self.pending.try_set(false);
        });
    }

    /// Whether a call is on its way (tracked: for a button's `disabled`).
    pub fn pending(self) -> bool {
        self.pending.get()
    }

    /// The last answer, tracked.
    pub fn answer(self) -> Option<T>
    where
        T: Clone,
    {
        self.answer.get()
    }
}

impl<T: Send + Sync + 'static> Default for Call<T> {
    fn default() -> Self {
        Self::new()
    }
}
