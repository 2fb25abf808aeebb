//! Links between areas of the UI, each of which is its own bundle ([`Area`]).

use leptos::prelude::*;

use crate::area::Area;

/// The `rel` of a link to `href`: `external` when the page is drawn by another area's
/// bundle, so the router leaves the click to the browser (a full page load) instead of
/// looking for the page among its own.
pub fn area_rel(href: &str) -> Option<&'static str> {
    let here = use_context::<Area>()?;
    (Area::of_path(href) != here).then_some("external")
}

/// Opens a page of another area from code, as a new page load.
pub fn open_page(path: &str) {
    if let Err(err) = window().location().set_href(path) {
        leptos::logging::warn!("cannot open {path}: {err:?}");
    }
}
