//! Showing what a server function returned: the data, an empty state, or the error.

use leptos::prelude::*;

use crate::api::ApiError;

/// An API error as an alert a screen reader announces. A 401 (the session ended) also
/// brings back the sign-in form.
#[component]
pub fn ErrorMessage(error: ApiError) -> impl IntoView {
    super::Session::current().note(&error);
    view! { <p class="error" role="alert">{error.to_string()}</p> }
}

/// `render`s a fetched list, or `empty` when it has no items, or the error; `loading`
/// until the first answer (`None`, as [`super::latest`] gives it).
pub fn list_view<T>(
    answer: Option<Result<Vec<T>, ApiError>>,
    loading: &'static str,
    empty: impl FnOnce() -> AnyView,
    render: impl FnOnce(Vec<T>) -> AnyView,
) -> AnyView {
    match answer {
        None => view! { <p class="muted">{loading}</p> }.into_any(),
        Some(Ok(items)) if items.is_empty() => empty(),
        Some(Ok(items)) => render(items),
        Some(Err(error)) => view! { <ErrorMessage error/> }.into_any(),
    }
}
