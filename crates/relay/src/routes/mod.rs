//! HTTP handlers, one file per kind of caller.

pub mod admin;
pub mod node;
pub mod sealing;
