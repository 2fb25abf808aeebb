//! Tollgate's shared crate.
//!
//! - [`domain`]: the pipeline rules (no I/O, no features): used by both sides.
//! - `api`: the types and server functions of the HTTP API.
//! - `pages`, `components`: the Leptos UI, mounted in the browser by `frontend`.
//!
//! Feature `csr` builds the browser side, `ssr` the server side; never both.

// The run page's view is one deep type where the server build (without the browser's
// `erase_components`) works out its layout.
#![recursion_limit = "256"]

#[cfg(all(feature = "csr", feature = "ssr"))]
compile_error!(
    "features `csr` and `ssr` of `app` are both on: build per package \
     (`cargo build -p server`, `trunk build`), not `--workspace`"
);

pub mod api;
mod app;
pub mod area;
pub mod constructor;
pub mod domain;
pub mod layout;
pub mod pages;
pub mod ui;

pub use app::{ApprovalsApp, ConstructorApp, ManageApp, RunsApp};
