//! The Supervisor's API as data: the Kubernetes and VM Operator objects
//! its store holds (`objects`), the messages its parts exchange (`msg`,
//! each a persisted event), and the facts they note for statistics
//! (`notes`), and where each part is (`addrs`). Plain data on top of
//! `model`: no behaviour, no actors.

pub mod addrs;
pub mod msg;
pub mod notes;
pub mod objects;

pub use msg::{SupMsg, Verb};
pub use notes::SupNote;
