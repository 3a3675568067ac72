//! The Supervisor: what turns a vSphere cluster into Kubernetes (Project
//! Pacific). Every part is an actor exchanging persisted events; see
//! ARCHITECTURE.md "Supervisor" for who talks to whom.
//!
//! The objects and messages are data of their own, in [`crate::api`]; the
//! validated `supervisor:` section is the scenario's
//! ([`crate::scenario::SupervisorConfig`]).

pub mod actors;
pub mod api_server;
pub mod auth_proxy;
pub mod calls;
pub mod capi;
pub mod clients;
pub mod crashable;
pub mod deployment;
pub mod guest;
pub mod network;
pub mod node_controller;
pub mod relist;
pub mod replicaset;
pub mod scheduler;
pub mod scheduling;
pub mod spherelet;
pub mod storage;
#[cfg(test)]
pub(crate) mod testkit;
#[cfg(test)]
pub mod testutil;
pub mod vm_operator;
pub mod wps;
