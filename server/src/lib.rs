//! Tollgate's server: the store (Postgres or embedded SQLite), the HTTP routes and the
//! backend the server functions call. `main.rs` parses the configuration and calls
//! [`start`].

pub mod auth;
pub mod backend;
pub mod cli;
pub mod client;
pub mod clock;
pub mod config;
pub mod downloads;
pub mod engine;
pub mod executor;
pub mod gate_patterns;
pub mod gate_records;
pub mod http;
pub mod job_env;
pub mod job_tmp;
pub mod leftovers;
pub mod metrics;
pub mod notices;
pub mod output_lines;
pub mod precompress;
pub mod request_error;
pub mod retention;
pub mod sandbox;
pub mod scheduler;
pub mod single_instance;
pub mod startup;
pub mod store;
pub mod wakeups;
pub mod webhooks;
pub mod workspace;

pub use startup::start;
