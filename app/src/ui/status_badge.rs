//! A status shown as a coloured pill.

use leptos::prelude::*;

/// A pill coloured by status (`PENDING`, `RUNNING`, ...); the CSS class is the status
/// in lower case.
#[component]
pub fn StatusBadge(#[prop(into)] status: String) -> impl IntoView {
    let class = format!("badge status-{}", status.to_lowercase());
    view! { <span class=class>{status}</span> }
}
