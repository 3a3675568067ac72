//! pacsim: a deterministic, event-sourced simulator of a vSphere Supervisor
//! datacenter. See ARCHITECTURE.md for the tour.
//!
//! Module graph (an arrow reads "is used by"): `model` → `event`, `actor` →
//! `actors`, `placement`, `inputs` → `world` → runtimes (`sim`, `live`) →
//! `run`, `report`, `store` → the CLI. No actor module names a runtime.

pub mod actor;
pub mod actors;
pub mod check;
pub mod event;
pub mod fuzz;
pub mod hint;
pub mod import;
pub mod inputs;
pub mod live;
pub mod model;
pub mod placement;
pub mod plan;
pub mod random;
pub mod report;
pub mod run;
pub mod scenario;
pub mod sim;
pub mod store;
pub mod supervisor;
pub mod trace;
pub mod world;
