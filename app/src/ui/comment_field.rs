//! The comment that goes with a decision, in the banner and in the inbox.

use leptos::prelude::*;

/// A labelled one-line text field bound to `value`.
#[component]
pub fn CommentField(label: &'static str, value: RwSignal<String>) -> impl IntoView {
    view! {
        <label class="comment">
            <span class="muted">{label}</span>
            <input
                type="text"
                prop:value=move || value.get()
                on:input=move |event| value.set(event_target_value(&event))
            />
        </label>
    }
}
