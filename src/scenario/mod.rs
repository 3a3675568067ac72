//! Scenario files: YAML text in, a validated [`Scenario`] out, or one error
//! with file, line and column.

pub mod model;

pub use model::*;
