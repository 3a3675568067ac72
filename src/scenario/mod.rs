//! Scenario files: YAML text in, a validated [`Scenario`] out, or one error
//! with file, line and column.
//!
//! Layers: `yaml` (text -> positioned tree), `read` (schema helpers),
//! `units` (durations, quantities, rates, distributions), `parse` (the top
//! level) with one module per section: `datacenter`, `workloads`, `faults`,
//! `expect`, `supervisor`; `calls` (the Supervisor's timed API calls),
//! `manifests` (Kubernetes objects) and `include` (manifest files). The
//! format is documented in `docs/scenarios.md`.

mod calls;
mod datacenter;
mod drs;
pub mod error;
mod expect;
mod faults;
pub mod ha;
mod include;
pub mod manifests;
pub mod model;
mod notices;
mod parse;
mod read;
pub mod sanity;
mod supervisor;
mod timing;
pub mod units;
mod workloads;
pub(crate) mod yaml;

pub use crate::model::limits::MAX_HOSTS;
pub use error::ScenarioError;
pub use expect::parse_expectation;
pub use model::*;
pub use supervisor::DEFAULT_POD_START_LATENCY;
pub use supervisor::config::*;

use std::path::Path;

/// Parses scenario text; `file` is used for the default name and in errors
/// (pass `<inline>` for text that has no file).
pub fn parse_scenario(text: &str, file: &str) -> Result<Scenario, ScenarioError> {
    let (parsed, notices) = notices::collect(file, || parse::parse(text, file));
    let mut scenario = parsed.map_err(|d| d.in_file(file))?;
    scenario.notices = notices;
    Ok(scenario)
}

/// Reads and parses a scenario file.
pub fn load_scenario(path: &Path) -> Result<Scenario, ScenarioError> {
    let file = path.display().to_string();
    let bytes = include::read_at_most(path, include::MAX_TEXT_BYTES).map_err(|reason| {
        ScenarioError::Unreadable {
            file: file.clone(),
            reason,
        }
    })?;
    let text = String::from_utf8(bytes)
        .map_err(|e| not_utf8(&file, e.as_bytes(), e.utf8_error().valid_up_to()))?;
    parse_scenario(&text, &file)
}

/// A binary file is "not YAML": say so at the first byte that is not UTF-8.
fn not_utf8(file: &str, bytes: &[u8], valid_up_to: usize) -> ScenarioError {
    let prefix = String::from_utf8_lossy(&bytes[..valid_up_to]);
    let line = prefix.matches('\n').count() + 1;
    let col = prefix.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    error::Diag::new(
        Location { line, col },
        format!("not a YAML scenario: invalid UTF-8 at byte {valid_up_to}"),
    )
    .in_file(file)
}
