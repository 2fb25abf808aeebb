//! The sign-in form: shown instead of every page until the server knows who is there.

use leptos::prelude::*;

use crate::api::login;
use crate::ui::{Call, ErrorMessage, Session, SessionState};

#[component]
pub fn SignInPage() -> impl IntoView {
    let session = Session::current();
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let submit = Call::new();
    let sign_in = move || {
        let (name, secret) = (username.get_untracked(), password.get_untracked());
        submit.start(async move {
            let result = login(name, secret).await;
            if let Ok(actor) = &result {
                password.set(String::new());
                session.0.set(SessionState::SignedIn(actor.clone()));
            }
            result
        });
    };
    view! {
        <section class="sign-in">
            <h1>"Sign in to Tollgate"</h1>
            <form on:submit=move |event| {
                event.prevent_default();
                sign_in();
            }>
                <label>
                    <span>"Username"</span>
                    <input
                        type="text"
                        name="username"
                        autocomplete="username"
                        required
                        prop:value=move || username.get()
                        on:input=move |event| username.set(event_target_value(&event))
                    />
                </label>
                <label>
                    <span>"Password"</span>
                    <input
                        type="password"
                        name="password"
                        autocomplete="current-password"
                        required
                        prop:value=move || password.get()
                        on:input=move |event| password.set(event_target_value(&event))
                    />
                </label>
                <button class="button primary" type="submit" disabled=move || submit.pending()>
                    "Sign in"
                </button>
            </form>
            {move || {
                submit
                    .answer()
                    .and_then(Result::err)
                    .map(|error| view! { <ErrorMessage error/> })
            }}
            <p class="muted hint">
                "First start? Sign in as " <code>"admin"</code> " with the password in "
                <code>"<data dir>/initial-admin-password"</code> "."
            </p>
        </section>
    }
}
