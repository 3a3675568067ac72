//! What a run tells its user: statistics folded from actors' notes, the
//! summary (table and JSON), and the `expect:` checks against it.

pub mod detail;
pub mod expect;
pub mod guest;
pub mod numbers;
mod run_lengths;
pub mod stats;
pub mod summary;
pub mod supervisor;
pub mod supervisor_stats;

pub use stats::Stats;
pub use summary::Summary;
