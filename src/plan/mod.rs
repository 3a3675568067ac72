//! Capacity planning: the smallest host count (of one host model) for which
//! a scenario's SLOs hold on every seed (or a quantile of seeds), optionally
//! with the k busiest hosts failing at the peak (N+k). Pure search and
//! evaluation over in-memory runs; the CLI prints and writes the results.

pub mod chart;
pub mod clusters;
pub mod evaluate;
pub mod exec;
pub mod grid;
pub mod html;
pub mod outcome;
pub mod resize;
pub mod runs;
pub mod search;
pub mod slo;
pub mod ticks;
pub mod verdict;

pub use evaluate::{PlanError, plan};
pub use outcome::PlanReport;
pub use runs::PlanConfig;
