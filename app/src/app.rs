//! The root component: the sign-in gate, the navigation bar with the user menu, and the
//! routes of each area's bundle ([`Area`]).

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::{A, Route, Router, Routes};
use leptos_router::path;

use crate::api::{ApiError, logout, whoami};
use crate::area::Area;
use crate::domain::Actor;
use crate::pages::{
    ApprovalsPage, ConstructorPage, NotFoundPage, PipelinesPage, RunPage, RunsPage, SignInPage,
    UsersPage,
};
use crate::ui::{
    ApprovalsBadge, DatabaseBanner, DatabaseHealth, Session, SessionState, area_rel, use_interval,
};

/// The runs list and the run page (the `frontend` binary's bundle).
#[component]
pub fn RunsApp() -> impl IntoView {
    let routes = || {
        view! {
            <Routes fallback=NotFoundPage>
                <Route path=path!("/") view=RunsPage/>
                <Route path=path!("/runs/:id") view=RunPage/>
                <Route path=path!("/runs/:id/gates/:gate") view=RunPage/>
            </Routes>
        }
        .into_any()
    };
    view! { <App area=Area::Runs routes/> }
}

/// The inbox of gates (the `approvals` binary's bundle).
#[component]
pub fn ApprovalsApp() -> impl IntoView {
    let routes = || {
        view! {
            <Routes fallback=NotFoundPage>
                <Route path=path!("/approvals") view=ApprovalsPage/>
            </Routes>
        }
        .into_any()
    };
    view! { <App area=Area::Approvals routes/> }
}

/// Saved pipelines and users (the `manage` binary's bundle).
#[component]
pub fn ManageApp() -> impl IntoView {
    let routes = || {
        view! {
            <Routes fallback=NotFoundPage>
                <Route path=path!("/pipelines") view=PipelinesPage/>
                <Route path=path!("/users") view=UsersPage/>
            </Routes>
        }
        .into_any()
    };
    view! { <App area=Area::Manage routes/> }
}

/// The Constructor (the `constructor` binary's bundle).
#[component]
pub fn ConstructorApp() -> impl IntoView {
    let routes = || {
        view! {
            <Routes fallback=NotFoundPage>
                <Route path=path!("/constructor") view=ConstructorPage/>
            </Routes>
        }
        .into_any()
    };
    view! { <App area=Area::Constructor routes/> }
}

/// What every bundle shares around its pages. `routes` is a plain function so that each
/// binary links only the pages of its own area.
#[component]
fn App(area: Area, routes: fn() -> AnyView) -> impl IntoView {
    provide_context(area);
    let session = Session(RwSignal::new(SessionState::Checking));
    provide_context(session);
    // Asks who is signed in at start, then once a minute, so an ended session shows
    // the sign-in form even on a page that is not polling.
    let tick = use_interval(60_000);
    Effect::new(move |_| {
        tick.track();
        spawn_local(async move {
            match whoami().await {
                Ok(actor) => {
                    if session.0.get_untracked() != SessionState::SignedIn(actor.clone()) {
                        session.0.set(SessionState::SignedIn(actor));
                    }
                }
                Err(ApiError::Unauthorized { .. }) => {
                    if session.0.get_untracked() != SessionState::SignedOut {
                        session.0.set(SessionState::SignedOut);
                    }
                }
                // The server is down or restarting: keep what is known.
                Err(_) => {}
            }
        });
    });
    view! {
        {move || match session.0.get() {
            SessionState::Checking => view! { <p class="muted loading">"Loading…"</p> }.into_any(),
            SessionState::SignedOut => view! { <main><SignInPage/></main> }.into_any(),
            SessionState::SignedIn(actor) => view! { <SignedIn actor routes/> }.into_any(),
        }}
    }
}

#[component]
fn SignedIn(actor: Actor, routes: fn() -> AnyView) -> impl IntoView {
    let admin = actor.is_admin();
    DatabaseHealth::provide();
    view! {
        <Router>
            <nav class="topbar">
                <span class="brand">"Tollgate"</span>
                <A href="/" attr:rel=area_rel("/")>"Runs"</A>
                <A href="/approvals" attr:rel=area_rel("/approvals")>"Approvals" <ApprovalsBadge/></A>
                <A href="/pipelines" attr:rel=area_rel("/pipelines")>"Pipelines"</A>
                <A href="/constructor" attr:rel=area_rel("/constructor")>"Constructor"</A>
                {admin.then(|| view! { <A href="/users" attr:rel=area_rel("/users")>"Users"</A> })}
                <UserMenu actor/>
            </nav>
            <DatabaseBanner/>
            <main>{routes()}</main>
        </Router>
    }
}

/// Who is signed in, with which roles, and the way out.
#[component]
fn UserMenu(actor: Actor) -> impl IntoView {
    let session = Session::current();
    let roles = actor
        .roles
        .iter()
        .map(|role| role.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let sign_out = move |_| {
        spawn_local(async move {
            let _ = logout().await;
            session.0.set(SessionState::SignedOut);
        });
    };
    view! {
        <div class="user-menu">
            <span class="user-name" title=format!("roles: {roles}")>{actor.display_name.clone()}</span>
            <span class="muted">{format!("({})", actor.username)}</span>
            <button class="button" on:click=sign_out>"Sign out"</button>
        </div>
    }
}
