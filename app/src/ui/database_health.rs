//! Whether the server's database answers, for every page. While it does not, the
//! server keeps every result and retries; the page says so in one banner instead of
//! showing stale or empty data as if it were true (an empty approvals list while the
//! database is down would be a lie).

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{ApiError, DATABASE_UNAVAILABLE, whoami};

use super::use_interval;

/// Shared through context by the signed-in app: `true` while the database is down.
#[derive(Clone, Copy, Debug)]
pub struct DatabaseHealth(RwSignal<bool>);

impl DatabaseHealth {
    /// Makes the app's, for the pages under the calling component.
    pub fn provide() {
        provide_context(DatabaseHealth(RwSignal::new(false)));
    }

    /// The app's, or a detached one (a component shown outside the app, in a test).
    pub fn current() -> DatabaseHealth {
        use_context::<DatabaseHealth>().unwrap_or_else(|| DatabaseHealth(RwSignal::new(false)))
    }

    /// Notes an answer from the server: a 503 "database unavailable" raises the banner,
    /// any success takes it down.
    pub fn note<T>(self, answer: &Result<T, ApiError>) {
        let down = matches!(answer, Err(ApiError::Unavailable { .. }));
        let known = answer.is_ok() || down;
        if known && !self.0.is_disposed() && self.0.get_untracked() != down {
            self.0.set(down);
        }
    }
}

/// The banner, under the navigation bar (after [`DatabaseHealth::provide`]). While it shows, it asks the server every 2 s
/// (a question that needs the database), so it goes away by itself on any page.
#[component]
pub fn DatabaseBanner() -> impl IntoView {
    let health = DatabaseHealth::current();
    let tick = use_interval(2000);
    Effect::new(move |_| {
        tick.track();
        if health.0.get_untracked() {
            spawn_local(async move { health.note(&whoami().await) });
        }
    });
    move || {
        health.0.get().then(|| {
            view! { <div class="database-banner" role="alert">{DATABASE_UNAVAILABLE}</div> }
        })
    }
}
