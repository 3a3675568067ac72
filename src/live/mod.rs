//! The live runtime: the simulator's own kernel, kept in time by a wall
//! clock scaled by `speed` (virtual seconds per wall second). There is no
//! second scheduler: the kernel decides what is delivered and in what
//! order, with message faults and invariant checks as in a simulation, so
//! a live run's log and digest are the simulated run's.
//!
//! [`WallClock`] is the pacing. Before an event that is not yet due it
//! makes every event delivered so far durable (`EventLog::sync`: one flush
//! for the whole batch), reports them, and sleeps until the event's time.
//! Actors are sans-I/O, so nothing outside the process sees a delivery
//! before its batch is on disk: after a `kill -9` the journal holds every
//! event reported delivered (what it holds then reads with `--salvage`).
//! A run that falls behind the clock delivers without waiting, and makes
//! its journal durable at least every [`MAX_BATCH`] events.

use crate::model::SimTime;
use crate::run::pace::{Journal, Pace};
use crate::run::watchdog::RunLimits;
use crate::run::{RunOutput, simulate_paced};
use crate::scenario::Scenario;
use crate::store::{EventLog, StoreError};
use std::time::{Duration, Instant};

/// The most events delivered before the journal is made durable, when the
/// run is behind the clock and never waits.
pub const MAX_BATCH: u64 = 4096;

/// Runs `scenario` live until its end (wall time: duration / speed).
pub fn run_live(scenario: &Scenario, speed: f64, log: EventLog) -> Result<RunOutput, StoreError> {
    run_live_limited(scenario, speed, log, false, RunLimits::default())
}

/// [`run_live`] with invariants after every event (`every_event`) and the
/// watchdog's `limits`, as `pacsim run --live` runs it.
pub fn run_live_limited<L: crate::run::pace::RunLog>(
    scenario: &Scenario,
    speed: f64,
    log: L,
    every_event: bool,
    limits: RunLimits,
) -> Result<RunOutput, StoreError> {
    assert!(speed.is_finite() && speed > 0.0, "speed must be positive");
    let mut clock = WallClock::new(speed);
    simulate_paced(scenario, log, every_event, limits, &mut clock, |_, _| {})
}

/// Virtual time on the wall clock: virtual `t` is due `t / speed` after
/// the run started.
pub struct WallClock {
    started: Instant,
    speed: f64,
    /// Events reported delivered (durable) so far.
    reported: u64,
}

impl WallClock {
    pub fn new(speed: f64) -> Self {
        WallClock {
            started: Instant::now(),
            speed,
            reported: 0,
        }
    }

    fn wall_of(&self, at: SimTime) -> Instant {
        self.started + Duration::from_secs_f64(at.as_secs_f64() / self.speed)
    }

    /// Makes the events delivered since the last commit durable, then
    /// reports them.
    fn commit<J: Journal>(&mut self, delivered: u64, journal: &mut J) -> Result<(), StoreError> {
        if delivered == self.reported {
            return Ok(());
        }
        journal.sync()?;
        for seq in self.reported..delivered {
            tracing::debug!(seq, "journalled and delivered");
        }
        self.reported = delivered;
        Ok(())
    }

    fn wait_until(&self, at: SimTime) {
        let due = self.wall_of(at);
        let now = Instant::now();
        if due > now {
            std::thread::sleep(due - now);
        }
    }
}

impl Pace for WallClock {
    const PACED: bool = true;

    fn before<J: Journal>(
        &mut self,
        next: SimTime,
        delivered: u64,
        journal: &mut J,
    ) -> Result<(), StoreError> {
        if Instant::now() >= self.wall_of(next) {
            if delivered - self.reported >= MAX_BATCH {
                self.commit(delivered, journal)?;
            }
            return Ok(());
        }
        self.commit(delivered, journal)?;
        self.wait_until(next);
        Ok(())
    }

    fn after<J: Journal>(
        &mut self,
        end: SimTime,
        delivered: u64,
        journal: &mut J,
    ) -> Result<(), StoreError> {
        self.commit(delivered, journal)?;
        self.wait_until(end);
        Ok(())
    }
}
