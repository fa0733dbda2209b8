//! The relay binary over real HTTP on 127.0.0.1: the flow as a node and a
//! sender drive it, request signing, abuse and limits, static files, load,
//! and the proof that it cannot decrypt.

// A panic is how a test fails; clippy.toml allows these inside #[test]
// functions only, and the helpers of a test crate are test code too.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod admin_console;
mod admin_nodes;
mod admin_token;
mod audit;
mod cors;
mod enumeration;
mod fanout;
mod flow;
mod head_limits;
mod http_abuse;
mod identity;
mod limits;
mod load;
mod lockout;
mod multi_instance;
mod multi_instance_kek;
mod multi_instance_tls;
mod no_decrypt;
mod signing;
mod static_files;
