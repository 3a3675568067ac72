//! Persistence: the record codec (the one place that knows the record
//! encodings), the sled event log with its running digest, and reading
//! logs back.

pub mod codec;
pub mod folder;
pub mod frame;
mod handoff;
pub mod log;
pub mod salvage;
mod writer;

pub use folder::FolderError;
pub use log::{Digest, EventLog, LogMeta, LogReader, StoreError};
