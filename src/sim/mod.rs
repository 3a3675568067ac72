//! The deterministic runtime: virtual time, one queue ordered by
//! `(time, seq)`, seeded streams. A run is a pure function of the scenario
//! and the seed.

pub mod faults;
pub mod kernel;
pub mod queue;

pub use kernel::{Kernel, NoteSink, RecordSink};
