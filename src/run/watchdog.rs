//! Stops a run that cannot end in reasonable resources, with a message
//! that says why, rather than letting it abort on a failed allocation or
//! spin forever:
//!
//! - **Memory budget.** The process's resident memory is read every 2^16
//!   events; past the budget (by default 3/4 of what the machine, or the
//!   process's cgroup, allows) the run stops. Only this check reads
//!   anything outside the simulation, and it can only stop a run, never
//!   change what a run delivers.
//! - **Stall.** Simulated time must advance at least 1 ns per event on
//!   average over every 2^24 events; a world where it does not (a host
//!   failing every nanosecond) would deliver events forever without
//!   reaching its end. This check is a function of the delivered events
//!   alone, so it stops the same run at the same event on every machine.

use crate::model::SimTime;
use crate::model::time::{format_nanos, format_span};
use std::fmt;

/// Events over which simulated time must advance (by 1 ns per event).
pub const STALL_EVENTS: u64 = 1 << 24;

/// What a run may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunLimits {
    /// Resident bytes past which a run stops; `None`: no budget.
    pub memory_budget: Option<u64>,
    /// Events over which simulated time must advance by as many ns
    /// ([`STALL_EVENTS`]; a multiple of 2^16, where it is checked).
    pub stall_events: u64,
    /// Stop after this many events (input fuzzing bounds each case so);
    /// with a cap the watchdog looks every 2^12 events instead of 2^16.
    pub max_events: Option<u64>,
    /// Whether the workload's inputs may be drawn on a second core
    /// ([`crate::inputs::draw_ahead`]): for a single run; sweeps fill
    /// every core with runs instead.
    pub draw_inputs_ahead: bool,
}

impl RunLimits {
    /// The default budget: 3/4 of the memory this process may use, or no
    /// budget where that cannot be read (outside Linux).
    pub fn for_this_machine() -> Self {
        RunLimits {
            memory_budget: usable_memory().map(|m| m / 4 * 3),
            stall_events: STALL_EVENTS,
            max_events: None,
            draw_inputs_ahead: false,
        }
    }

    /// No budget; the stall check stays (it is part of what a run means).
    pub fn unlimited() -> Self {
        RunLimits {
            memory_budget: None,
            stall_events: STALL_EVENTS,
            max_events: None,
            draw_inputs_ahead: false,
        }
    }
}

impl Default for RunLimits {
    fn default() -> Self {
        Self::for_this_machine()
    }
}

/// Why a run was stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cause {
    Memory {
        resident: u64,
        budget: u64,
    },
    /// From `since` to the stop, `events` events moved time by less than
    /// 1 ns each on average.
    Stalled {
        since: SimTime,
        events: u64,
    },
    /// `RunLimits::max_events` was reached.
    EventCap {
        cap: u64,
    },
}

/// Checks a running kernel now and then (see the module doc).
pub(crate) struct Watchdog {
    budget: Option<u64>,
    stall_events: u64,
    max_events: Option<u64>,
    window_events: u64,
    window_start: SimTime,
}

impl Watchdog {
    pub fn new(limits: RunLimits) -> Self {
        Watchdog {
            budget: limits.memory_budget,
            stall_events: limits.stall_events,
            max_events: limits.max_events,
            window_events: 0,
            window_start: SimTime::ZERO,
        }
    }

    /// The watchdog is asked when `delivered & mask() == 0`.
    pub fn mask(&self) -> u64 {
        if self.max_events.is_some() {
            0xFFF
        } else {
            0xFFFF
        }
    }

    /// Called when `delivered & self.mask() == 0`.
    pub fn check(&mut self, now: SimTime, delivered: u64) -> Option<Cause> {
        if let Some(cap) = self.max_events.filter(|&cap| delivered >= cap) {
            return Some(Cause::EventCap { cap });
        }
        let events = delivered - self.window_events;
        if events >= self.stall_events {
            if now.0 - self.window_start.0 < self.stall_events {
                return Some(Cause::Stalled {
                    since: self.window_start,
                    events,
                });
            }
            self.window_events = delivered;
            self.window_start = now;
        }
        let budget = self.budget?;
        let resident = resident_bytes()?;
        (resident > budget).then_some(Cause::Memory { resident, budget })
    }
}

/// What the world held when a run stopped.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Holding {
    pub vms_alive: u64,
    pub pending_deletions: u64,
    pub queued_events: u64,
    pub api_objects: u64,
}

/// A run stopped by the watchdog: where, why, what it held, and hints
/// from the scenario at what made it grow (see `scenario::sanity`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stopped {
    pub cause: Cause,
    pub at: SimTime,
    pub events: u64,
    pub holding: Holding,
    pub hints: Vec<String>,
}

impl fmt::Display for Stopped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.cause {
            Cause::Memory { resident, budget } => write!(
                f,
                "the run stopped at simulated time {} after {} events: it uses {} of memory, past its budget of {} (--memory-budget)",
                format_nanos(self.at.0),
                self.events,
                gib(*resident),
                gib(*budget)
            )?,
            Cause::Stalled { since, events } => write!(
                f,
                "the run stopped at simulated time {} after {} events: simulated time advanced only {} over the last {events} events, so it would not reach its end",
                format_nanos(self.at.0),
                self.events,
                format_span(self.at.0 - since.0),
            )?,
            Cause::EventCap { cap } => write!(
                f,
                "the run stopped at simulated time {} after {} events: its cap is {cap} events",
                format_nanos(self.at.0),
                self.events,
            )?,
        }
        let h = &self.holding;
        write!(
            f,
            "; holding {} VMs alive, {} pending deletions, {} queued events",
            h.vms_alive, h.pending_deletions, h.queued_events
        )?;
        if h.api_objects > 0 {
            write!(f, ", {} API objects", h.api_objects)?;
        }
        for hint in &self.hints {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

fn gib(bytes: u64) -> String {
    format!("{:.1} GiB", bytes as f64 / (1u64 << 30) as f64)
}

/// This process's resident memory, from /proc (Linux).
fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    kib_field(&status, "VmRSS:")
}

/// The memory this process may use: the machine's, or its cgroup's limit
/// when lower.
fn usable_memory() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let total = kib_field(&meminfo, "MemTotal:")?;
    let cgroup = [
        "/sys/fs/cgroup/memory.max",
        "/sys/fs/cgroup/memory/memory.limit_in_bytes",
    ]
    .iter()
    .filter_map(|p| std::fs::read_to_string(p).ok())
    .find_map(|t| t.trim().parse::<u64>().ok());
    Some(cgroup.map_or(total, |c| c.min(total)))
}

/// `NAME   123 kB` in a /proc file, in bytes.
fn kib_field(text: &str, name: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with(name))?;
    let kib: u64 = line[name.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    kib.checked_mul(1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_world_whose_time_stands_still_is_stopped_and_one_that_moves_is_not() {
        let mut dog = Watchdog::new(RunLimits::unlimited());
        let step = 1 << 16;
        let mut delivered = 0;
        // Time moves 2 ns per event: never stalled.
        while delivered < 4 * STALL_EVENTS {
            delivered += step;
            assert_eq!(dog.check(SimTime(2 * delivered), delivered), None);
        }
        // From here time moves 1 ns per 100 events.
        let start = delivered;
        let frozen_at = SimTime(2 * start);
        let stop = loop {
            delivered += step;
            let now = SimTime(frozen_at.0 + (delivered - start) / 100);
            if let Some(cause) = dog.check(now, delivered) {
                break cause;
            }
            assert!(delivered < start + 2 * STALL_EVENTS, "never stopped");
        };
        assert!(matches!(stop, Cause::Stalled { events, .. } if events == STALL_EVENTS));
    }

    #[test]
    fn a_budget_below_what_the_process_holds_stops_the_run() {
        if resident_bytes().is_none() {
            return; // not Linux: no budget is kept
        }
        let mut dog = Watchdog::new(RunLimits {
            memory_budget: Some(1 << 20),
            ..RunLimits::unlimited()
        });
        let cause = dog.check(SimTime(1), 1 << 16);
        assert!(matches!(cause, Some(Cause::Memory { budget, .. }) if budget == 1 << 20));
    }

    #[test]
    fn proc_fields_read_in_bytes() {
        let text = "Name:\tx\nVmRSS:\t  2048 kB\nVmSwap:\t0 kB\n";
        assert_eq!(kib_field(text, "VmRSS:"), Some(2 << 20));
        assert_eq!(kib_field(text, "VmHWM:"), None);
    }
}
