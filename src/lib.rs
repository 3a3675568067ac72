//! pacsim: a deterministic, event-sourced simulator of a vSphere Supervisor
//! datacenter. See ARCHITECTURE.md for the tour.

pub mod model;
pub mod scenario;
