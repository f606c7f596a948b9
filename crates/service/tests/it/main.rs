//! The service's integration tests, one binary (DESIGN: one test binary per crate).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;
mod complaints;
mod governance;
mod incidents;
mod input;
mod provision;
mod registry;
mod requests;
mod retention;
mod robustness;
mod students;
