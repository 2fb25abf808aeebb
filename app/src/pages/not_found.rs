use leptos::prelude::*;
use leptos_router::components::A;

use crate::ui::area_rel;

/// Shown for any path the client does not know.
#[component]
pub fn NotFoundPage() -> impl IntoView {
    view! {
        <section class="page">
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address. " <A href="/" attr:rel=area_rel("/")>"Go to the runs list"</A> "."</p>
        </section>
    }
}
