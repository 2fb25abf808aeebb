//! The root component: the navigation bar and the routes.

use leptos::prelude::*;
use leptos_router::components::{A, Route, Router, Routes};
use leptos_router::path;

use crate::pages::{NotFoundPage, PipelinesPage, RunPage, RunsPage};

#[component]
pub fn App() -> impl IntoView {
    view! {
        <Router>
            <nav class="topbar">
                <span class="brand">"Tollgate"</span>
                <A href="/">"Runs"</A>
                <A href="/pipelines">"Pipelines"</A>
            </nav>
            <main>
                <Routes fallback=NotFoundPage>
                    <Route path=path!("/") view=RunsPage/>
                    <Route path=path!("/runs/:id") view=RunPage/>
                    <Route path=path!("/pipelines") view=PipelinesPage/>
                </Routes>
            </main>
        </Router>
    }
}
