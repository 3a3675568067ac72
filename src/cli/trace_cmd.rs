//! Glue shared by the trace commands: exit codes for trace errors, and
//! `run --trace` (the event log and a trace writer fed the same records).

use super::Failure;
use pacsim::run::{RunOutput, drive};
use pacsim::scenario::Scenario;
use pacsim::store::EventLog;
use pacsim::trace::{ReplayError, Tee, TraceError, TraceHeader, TraceWriter};
use pacsim::world::World;
use std::path::Path;

/// Damaged or foreign input is bad input (2); failing to read or write is
/// I/O (3).
pub fn failure(e: ReplayError) -> Failure {
    match &e {
        ReplayError::Trace(TraceError::Read { .. } | TraceError::Write { .. })
        | ReplayError::Store(_) => Failure::io(e),
        _ => Failure::bad_input(e),
    }
}

/// `pacsim run --trace FILE`: simulates into the log and a trace at once;
/// fails when the two digests disagree (they hash the same bytes). The
/// trace appears only after both are finished and agree; on any failure
/// before, it is not there (and a file of that name is left as it was).
pub fn simulate_traced(
    scenario: &Scenario,
    log: EventLog,
    trace: &Path,
    mut progress: impl FnMut(pacsim::model::SimTime, u64),
) -> Result<RunOutput, Failure> {
    let header = TraceHeader::new(&scenario.source, scenario.seed);
    let writer = TraceWriter::create(trace, &header).map_err(|e| failure(ReplayError::Trace(e)))?;
    let mut tee = Tee(log, writer);
    let driven = drive(World::build(scenario), &mut tee, |_, now, n| {
        if n & 0xFFFF == 0 {
            progress(now, n);
        }
        true
    });
    let Tee(log, writer) = tee;
    let digest = log.finish().map_err(Failure::io)?;
    let trace_err = |e| failure(ReplayError::Trace(e));
    let (file, trace_digest) = writer.finish().map_err(trace_err)?;
    if digest != trace_digest {
        return Err(Failure::io(format!(
            "trace digest {trace_digest} differs from the log's {digest}"
        )));
    }
    file.commit().map_err(|source| {
        trace_err(TraceError::Write {
            path: trace.to_path_buf(),
            source,
        })
    })?;
    Ok(driven.with_digest(digest))
}
