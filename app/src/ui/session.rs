//! Who is signed in, for every page: the app asks the server once at start, and an
//! answer of 401 anywhere (an expired session) brings the sign-in form back.

use leptos::prelude::*;

use crate::api::ApiError;
use crate::domain::Actor;

/// What the browser knows about its session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionState {
    /// Asking the server.
    Checking,
    SignedOut,
    SignedIn(Actor),
}

/// The session, shared through context.
#[derive(Clone, Copy, Debug)]
pub struct Session(pub RwSignal<SessionState>);

impl Session {
    /// The session of the app this component belongs to (a signed-out one if the app
    /// provided none, e.g. in a test).
    pub fn current() -> Session {
        use_context::<Session>().unwrap_or_else(|| Session(RwSignal::new(SessionState::SignedOut)))
    }

    /// The signed-in person, if any.
    pub fn actor(self) -> Option<Actor> {
        match self.0.get() {
            SessionState::SignedIn(actor) => Some(actor),
            _ => None,
        }
    }

    /// Notes an answer: a 401 means the session is gone; a 503 that the database does
    /// not answer ([`super::DatabaseHealth`]).
    pub fn note(self, error: &ApiError) {
        super::DatabaseHealth::current().note(&Err::<(), _>(error.clone()));
        let signed_in = matches!(self.0.get_untracked(), SessionState::SignedIn(_));
        if signed_in && matches!(error, ApiError::Unauthorized { .. }) {
            self.0.set(SessionState::SignedOut);
        }
    }
}
