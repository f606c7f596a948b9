//! The service's integration tests, one binary (DESIGN: one test binary per crate).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod alone;
mod audit;
mod backups;
mod common;
mod complaints;
mod erasure;
mod facts;
mod faults;
mod governance;
mod incidents;
mod input;
mod provision;
mod registry;
mod requests;
mod retention;
mod robustness;
mod signin;
mod students;
