//! The root component: the navigation bar and the routes.

use leptos::prelude::*;
use leptos_router::components::{A, Route, Router, Routes};
use leptos_router::path;

use crate::pages::{
    ApprovalsPage, ConstructorPage, NotFoundPage, PipelinesPage, RunPage, RunsPage,
};

#[component]
pub fn App() -> impl IntoView {
    view! {
        <Router>
            <nav class="topbar">
                <span class="brand">"Tollgate"</span>
                <A href="/">"Runs"</A>
                <A href="/approvals">"Approvals"</A>
                <A href="/pipelines">"Pipelines"</A>
                <A href="/constructor">"Constructor"</A>
            </nav>
            <main>
                <Routes fallback=NotFoundPage>
                    <Route path=path!("/") view=RunsPage/>
                    <Route path=path!("/runs/:id") view=RunPage/>
                    <Route path=path!("/approvals") view=ApprovalsPage/>
                    <Route path=path!("/pipelines") view=PipelinesPage/>
                    <Route path=path!("/constructor") view=ConstructorPage/>
                </Routes>
            </main>
        </Router>
    }
}
