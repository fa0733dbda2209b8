//! The relay server (never linked with decryption): an axum app over
//! SQLite or PostgreSQL that stores and forwards envelopes between the sealing side and
//! HMAC-authenticated nodes. It validates envelope *shape* only; it has no
//! code that could decrypt. docs/API.md is the contract; the wire types are
//! `sealpass_native::wire`.
//!
//! By role: `router` (the routes table), `state` (what handlers share),
//! `serve` (the process: listener, signals, shutdown, `main`), `auth` (the
//! admin and node extractors), `admin_token` (where the token comes from),
//! `head` (request head bounds), `routes` (handlers), `store` (SQLite or
//! PostgreSQL behind one interface).

mod admin_token;
mod api_error;
mod args;
mod auth;
mod body;
mod cors;
mod head;
mod router;
mod routes;
mod serve;
mod state;
pub mod static_files;
mod store;

pub use api_error::{status_for, ApiError};
pub use cors::AllowedOrigins;
pub use router::router;
pub use serve::main;
pub use state::{AppState, HttpLimits};
pub use store::{Limits, Store};
