//! Pacing: what a run does between deliveries. A simulation delivers as
//! fast as it can ([`Unpaced`]). Real operation (`pacsim run --live`)
//! waits for each event's time on a clock, and makes what was delivered
//! durable before it waits or reports it (`live::WallClock`). Either way
//! the kernel alone decides the order, so a paced run's log is the
//! simulated run's, byte for byte.

use crate::check::Recorder;
use crate::model::SimTime;
use crate::sim::RecordSink;
use crate::store::{EventLog, StoreError};

/// A record sink whose records can be made durable: the event log, or the
/// log under the checker's recorder.
pub trait Journal: RecordSink {
    fn sync(&mut self) -> Result<(), StoreError>;
}

impl Journal for EventLog {
    fn sync(&mut self) -> Result<(), StoreError> {
        EventLog::sync(self)
    }
}

impl<J: Journal> Journal for Recorder<'_, J> {
    fn sync(&mut self) -> Result<(), StoreError> {
        self.inner.sync()
    }
}

/// What a run records into: the event log, or the log with a second sink
/// beside it ([`Beside`]).
pub trait RunLog: Journal {
    fn log(&self) -> &EventLog;
    fn into_log(self) -> EventLog;
}

impl RunLog for EventLog {
    fn log(&self) -> &EventLog {
        self
    }
    fn into_log(self) -> EventLog {
        self
    }
}

/// The event log and a sink that gets every record too (`run --trace`'s
/// trace writer). Only the log is made durable by `sync`.
pub struct Beside<'a, B> {
    pub log: EventLog,
    pub also: &'a mut B,
}

impl<B: RecordSink> RecordSink for Beside<'_, B> {
    #[inline]
    fn record(&mut self, record: &crate::event::RecordRef<'_>) {
        self.log.record(record);
        self.also.record(record);
    }
}

impl<B: RecordSink> Journal for Beside<'_, B> {
    fn sync(&mut self) -> Result<(), StoreError> {
        self.log.sync()
    }
}

impl<B: RecordSink> RunLog for Beside<'_, B> {
    fn log(&self) -> &EventLog {
        &self.log
    }
    fn into_log(self) -> EventLog {
        self.log
    }
}

/// How a run keeps time. `delivered` is how many events were delivered so
/// far (the next one's seq).
pub trait Pace {
    /// False: the run loop never asks (the simulator's loop stays as it is).
    const PACED: bool;

    /// Before delivering the next event, due at `next`.
    fn before<J: Journal>(
        &mut self,
        next: SimTime,
        delivered: u64,
        journal: &mut J,
    ) -> Result<(), StoreError>;

    /// After the last delivery; the run ends at `end`.
    fn after<J: Journal>(
        &mut self,
        end: SimTime,
        delivered: u64,
        journal: &mut J,
    ) -> Result<(), StoreError>;
}

/// As fast as possible: the simulator.
pub struct Unpaced;

impl Pace for Unpaced {
    const PACED: bool = false;

    fn before<J: Journal>(&mut self, _: SimTime, _: u64, _: &mut J) -> Result<(), StoreError> {
        Ok(())
    }

    fn after<J: Journal>(&mut self, _: SimTime, _: u64, _: &mut J) -> Result<(), StoreError> {
        Ok(())
    }
}
