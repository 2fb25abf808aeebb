//! What a page shows from the server, fetched in the background into a plain signal.
//!
//! Leptos's resources do this too, but each resource type is its own copy of the
//! framework's async machinery (async-derived signals, scoped futures, transitions):
//! about 30 KB of gzip wasm for the runs area. This is one small function per type.

use std::cell::Cell;
use std::future::Future;
use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;

/// The latest answer of `fetch`: called once at the start and again whenever a signal
/// it reads changes (a poll's tick). `None` until the first answer; the last answer
/// stays while the next one is on its way (no flash of "Loading"). Every answer is
/// shown unless a newer call's answer came first: when the server is slow to answer
/// (a database outage holds each request for seconds, longer than a poll's period)
/// the answers still arrive, the outage's included.
pub fn latest<T, F>(fetch: impl Fn() -> F + 'static) -> ReadSignal<Option<T>>
where
    T: Send + Sync + 'static,
    F: Future<Output = T> + 'static,
{
    let (value, set_value) = signal(None);
    let started = Rc::new(Cell::new(0u64));
    let shown = Rc::new(Cell::new(0u64));
    Effect::new(move |_| {
        let call = started.get() + 1;
        started.set(call);
        let answer = fetch();
        let shown = shown.clone();
        spawn_local(async move {
            let answer = answer.await;
            if call > shown.get() {
                shown.set(call);
                // Gone when the page was left meanwhile: nothing to show it in.
                let _ = set_value.try_set(Some(answer));
            }
        });
    });
    value
}
