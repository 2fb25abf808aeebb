//! The arrowhead every SVG graph draws at the end of its edges.

use leptos::prelude::*;

/// An SVG `<marker>` for `marker-end="url(#<id>)"`; place it inside `<defs>`.
#[component]
pub fn ArrowMarker(id: &'static str) -> impl IntoView {
    view! {
        <marker
            id=id
            viewBox="0 0 10 10"
            refX="10"
            refY="5"
            markerWidth="7"
            markerHeight="7"
            orient="auto-start-reverse"
        >
            <path d="M0,0 L10,5 L0,10 z" class="arrowhead"></path>
        </marker>
    }
}
