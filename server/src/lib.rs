//! Tollgate's server: the store (Postgres or embedded SQLite), the HTTP routes and the
//! backend the server functions call. `main.rs` parses the configuration and calls
//! [`start`].

pub mod backend;
pub mod clock;
pub mod config;
pub mod http;
pub mod startup;
pub mod store;

pub use startup::start;
