//! Portable trace files (`*.pstrace`): one run's records in a single framed,
//! checksummed file with the scenario that made them, so that anyone can
//! verify, inspect or re-drive the run. The byte layout is in docs/traces.md,
//! section "Trace files", and in `format.rs`.
//!
//! Layers: `format` (constants, header and frame bytes, errors), `writer`
//! (a `RecordSink` writing frames, into an `atomic` file that appears only
//! whole), `reader` (frames and records back, with
//! salvage), then the uses: `verify` (exact replay), `whatif` (re-drive the
//! recorded inputs against another configuration), `inspect` (filters,
//! counts, cause chains) and `jsonl` (export for people and scripts).

pub mod atomic;
pub mod format;
pub mod inspect;
pub mod jsonl;
pub mod reader;
pub mod recorded;
pub mod salvaged;
pub mod session;
pub mod source;
pub mod verify;
pub mod whatif;
pub mod writer;

pub use format::{Damage, TraceError, TraceHeader};
pub use reader::{Salvage, TraceReader};
pub use writer::TraceWriter;

/// Why a replay, inspection or export could not be done.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error(transparent)]
    Trace(#[from] TraceError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("the scenario embedded in the run cannot be rebuilt: {0}")]
    Scenario(#[from] crate::scenario::ScenarioError),
    /// A record that reads well but is delivered to an actor the trace's own
    /// scenario does not have (a trace edited, or from another world).
    #[error(
        "{path}: record #{seq} is delivered to {actor}, but the trace's scenario has {actors} actors"
    )]
    UnknownActor {
        path: std::path::PathBuf,
        seq: u64,
        actor: crate::model::ActorId,
        actors: usize,
    },
    /// A bad `--what-if` or filter argument.
    #[error("{0}")]
    Argument(String),
}

/// The header's scenario, with the header's seed (a run may have overridden
/// the file's `seed:`), the fault profile the run added, if any (see
/// [`crate::fuzz::Profile::apply_and_embed`]), and the trace that replaced
/// its workloads, if any (see [`crate::import::WorkloadTrace`]).
pub fn header_scenario(
    text: &str,
    seed: u64,
) -> Result<crate::scenario::Scenario, crate::scenario::ScenarioError> {
    let mut scenario = crate::scenario::parse_scenario(text, HEADER)?;
    scenario.seed = seed;
    if let Some((line, profile)) = crate::fuzz::Profile::embedded(text) {
        let invalid = |e: String| invalid_at(line, format!("the run's fault profile: {e}"));
        let profile = profile.map_err(invalid)?;
        profile.validate(&scenario).map_err(invalid)?;
        profile.apply(&mut scenario);
    }
    if let Some((line, trace)) = crate::import::WorkloadTrace::embedded(text) {
        let invalid = |e: String| invalid_at(line, e);
        let (trace, digest) = trace.map_err(invalid)?;
        trace.reapply(&mut scenario, &digest).map_err(invalid)?;
    }
    Ok(scenario)
}

/// What the scenario text embedded in a run is called in errors.
const HEADER: &str = "<trace header>";

/// An error at the start of `line` of the embedded scenario text.
fn invalid_at(line: usize, message: String) -> crate::scenario::ScenarioError {
    crate::scenario::ScenarioError::Invalid {
        file: HEADER.into(),
        location: crate::scenario::Location { line, col: 1 },
        message,
    }
}
