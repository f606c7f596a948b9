//! Mamori's rules as pure functions: facts in, decisions with reasons out. No I/O, no clock
//! (time is an argument). Each rule cites the seed article or APPI article it implements.
//!
//! - [`access`]: may this staff member use this principal's data for this purpose?
//!   (seed 000 Arts. 4, 8-1; seed 003 Arts. 8-11, 17; APPI 18, 35)
//! - [`governance`]: training gates, the manager's duties, inspections (seed 003 Arts. 4-7,
//!   19, 22, 24; seed 000 Art. 8).
//! - [`incident`]: must a breach be reported to the PPC, by when, and must the principals be
//!   told? (APPI 26; PPC rules 7, 8, 10)
//! - [`refund`]: the school's tuition refund rules (seed 003 学費返還規定).
//! - [`student`]: the student life cycle those rules presume, and moving a graduate to another
//!   channel (APPI 17(2), 18(1)).
//! - [`values`]: the validated value types every personal value passes at the edge.
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]

pub mod access;
pub mod governance;
pub mod incident;
pub mod provision;
pub mod refund;
pub mod request;
pub mod retention;
pub mod student;
pub mod values;
