//! Persistence: the record codec (the one place that knows bincode), the
//! sled event log with its running digest, and reading logs back.

pub mod codec;
pub mod log;
mod writer;

pub use log::{Digest, EventLog, LogMeta, LogReader, StoreError};
