//! Tollgate's server: the store (Postgres or embedded SQLite), the HTTP routes and the
//! backend the server functions call. `main.rs` only parses the configuration and
//! starts [`serve`](crate::http::serve).

pub mod store;
