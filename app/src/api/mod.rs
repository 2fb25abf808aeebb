//! The HTTP API: types shared by browser and server, and the server functions.
//!
//! Each server function has a stable path under `/api/` and takes and returns JSON, so
//! it is as usable from `curl` as from the UI. Their bodies (compiled with `ssr`) only
//! call the [`backend::Backend`] the server provides.

#[cfg(feature = "ssr")]
pub mod backend;
mod error;
mod pipelines;
mod runs;
mod types;

pub use error::{ApiError, Problem};
pub use pipelines::{get_pipeline, list_pipelines, save_pipeline};
pub use runs::list_runs;
pub use types::{PipelineSource, PipelineSummary, RunSummary, SavedPipeline};
