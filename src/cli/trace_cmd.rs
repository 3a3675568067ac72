//! Glue shared by the trace commands: exit codes for trace errors, standard
//! output that ends quietly when its reader goes away, and `run --trace`
//! (the event log and a trace writer fed the same records).

use super::Failure;
use pacsim::run::RunOutput;
use pacsim::run::pace::Beside;
use pacsim::scenario::Scenario;
use pacsim::store::{EventLog, StoreError};
use pacsim::trace::atomic::AtomicFile;
use pacsim::trace::source::{SourceInfo, actor_names_or_why};
use pacsim::trace::{ReplayError, TraceError, TraceHeader, TraceWriter};
use std::fmt::Display;
use std::io::{BufWriter, ErrorKind, StdoutLock, Write};
use std::ops::ControlFlow;
use std::path::Path;

/// The run's actor names, or None after a warning that says why (a
/// workload trace the run read is gone): records are then shown with
/// actors by number.
pub fn names_or_warn(info: &SourceInfo) -> Option<Vec<String>> {
    match actor_names_or_why(info) {
        Ok(names) => Some(names),
        Err(e) => {
            eprintln!("warning: actors are shown by number, as their names are unavailable: {e}");
            None
        }
    }
}

/// Damaged or foreign input, or a path to nothing, is bad input (2);
/// failing to read or write is I/O (3).
pub fn failure(e: ReplayError) -> Failure {
    match &e {
        // A path that names nothing is a wrong argument, as for `run`.
        ReplayError::Trace(TraceError::Read { source, .. })
            if source.kind() == ErrorKind::NotFound =>
        {
            Failure::bad_input(e)
        }
        ReplayError::Trace(TraceError::Read { .. } | TraceError::Write { .. })
        | ReplayError::Store(_) => Failure::io(e),
        _ => Failure::bad_input(e),
    }
}

/// Standard output for commands that print a lot (`pacsim inspect T |
/// head`). `println!` panics when the reader has gone; here a broken pipe
/// only ends the printing (`flow` breaks, so callers stop reading input)
/// and the command exits as if done. Other write errors (a full disk) are
/// reported by `finish`.
pub struct Stdout {
    out: BufWriter<StdoutLock<'static>>,
    state: State,
}

enum State {
    Open,
    /// The pipe's reader went away: print nothing more, quietly.
    ReaderGone,
    Failed(std::io::Error),
}

impl Stdout {
    pub fn new() -> Self {
        Stdout {
            out: BufWriter::new(std::io::stdout().lock()),
            state: State::Open,
        }
    }

    /// Prints `text` and a newline, unless printing has ended.
    pub fn line(&mut self, text: impl Display) {
        self.print(format_args!("{text}\n"));
    }

    /// Prints `text` as it is, unless printing has ended.
    pub fn print(&mut self, text: impl Display) {
        if self.flow().is_continue() {
            let written = write!(self.out, "{text}");
            self.note(written);
        }
    }

    /// Break once nothing more will be printed.
    pub fn flow(&self) -> ControlFlow<()> {
        match self.state {
            State::Open => ControlFlow::Continue(()),
            _ => ControlFlow::Break(()),
        }
    }

    fn note(&mut self, written: std::io::Result<()>) {
        match written {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::BrokenPipe => self.state = State::ReaderGone,
            Err(e) => self.state = State::Failed(e),
        }
    }

    /// Flushes; a closed pipe is not an error, any other failure is.
    pub fn finish(mut self) -> Result<(), Failure> {
        if self.flow().is_continue() {
            let flushed = self.out.flush();
            self.note(flushed);
        }
        match self.state {
            State::Failed(e) => Err(Failure::io(format!("cannot write to standard output: {e}"))),
            State::Open | State::ReaderGone => Ok(()),
        }
    }
}

/// `pacsim run --trace FILE`: `run` (simulated or live, with the same
/// checks as without a trace) records into the log and a trace at once;
/// fails when the two digests disagree (they hash the same bytes). The
/// trace appears only after both are finished and agree; on any failure
/// before, or when the watchdog stopped the run, it is not there (and a
/// file of that name is left as it was).
pub fn simulate_traced(
    scenario: &Scenario,
    log: EventLog,
    trace: &Path,
    run: impl FnOnce(Beside<'_, TraceWriter<AtomicFile>>) -> Result<RunOutput, StoreError>,
) -> Result<RunOutput, Failure> {
    let header = TraceHeader::new(&scenario.source, scenario.seed);
    let trace_err = |e| failure(ReplayError::Trace(e));
    let mut writer = TraceWriter::create(trace, &header).map_err(trace_err)?;
    let beside = Beside {
        log,
        also: &mut writer,
    };
    let output = run(beside).map_err(Failure::io)?;
    let (file, trace_digest) = writer.finish().map_err(trace_err)?;
    if output.digest != trace_digest {
        return Err(Failure::io(format!(
            "trace digest {trace_digest} differs from the log's {}",
            output.digest
        )));
    }
    // A run the watchdog stopped failed (the caller says why): its trace,
    // which ends early, is not kept. One an invariant stopped is, as its
    // log is: it shows how the run got there.
    if output.stopped.is_some() {
        return Ok(output);
    }
    file.commit().map_err(|source| {
        trace_err(TraceError::Write {
            path: trace.to_path_buf(),
            source,
        })
    })?;
    Ok(output)
}
