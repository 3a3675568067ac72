//! The Supervisor: what turns a vSphere cluster into Kubernetes (Project
//! Pacific). Every part is an actor exchanging persisted events; see
//! ARCHITECTURE.md "Supervisor" for who talks to whom.
//!
//! - `objects`: the API objects (Pod, VirtualMachine, ...), `config`: the
//!   scenario's `supervisor:` section and timed API calls, `msg`: the events
//!   the Supervisor's actors exchange.

pub mod config;
pub mod objects;

pub use config::*;
pub mod addrs;
pub mod api_server;
pub mod msg;
pub mod notes;

pub use msg::SupMsg;
pub use notes::SupNote;
pub mod actors;
pub mod auth_proxy;
pub mod build;
pub mod calls;
pub mod capi;
pub mod clients;
pub mod crashable;
pub mod guest;
pub mod network;
pub mod node_controller;
pub mod relist;
pub mod replicaset;
pub mod scheduler;
pub mod scheduling;
pub mod spherelet;
pub mod stats;
pub mod storage;
pub mod summary;
#[cfg(test)]
pub(crate) mod testkit;
#[cfg(test)]
pub mod testutil;
pub mod vm_operator;
pub mod wps;
