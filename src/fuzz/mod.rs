//! `pacsim fuzz`: swarm testing over seeds. Per seed, the fault kinds and
//! their intensity are drawn from the seed ([`Profile::draw`]), the
//! scenario runs with every invariant checked after every event, and a
//! failure carries the command that reproduces it and a shrunk profile
//! (fewest faults that still break the same invariant).
//!
//! Seeds run in parallel on std threads; each seed's outcome depends on the
//! seed alone, never on the thread or the order.

pub mod inputs;
pub mod profile;

pub use profile::Profile;

use crate::check::Violation;
use crate::run::simulate_checked;
use crate::scenario::Scenario;
use crate::store::EventLog;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A seed that broke an invariant.
#[derive(Clone, Debug)]
pub struct Failure {
    pub seed: u64,
    pub profile: Profile,
    pub violation: Violation,
    /// A smaller profile that still breaks the same invariant.
    pub shrunk: Profile,
}

/// Runs `scenario` with `seed` and `profile`'s faults, invariants on. A
/// run the watchdog stopped is a failure too (`run-stopped`): a clock that
/// stands still under faults is a livelock worth a seed.
pub fn run_one(scenario: &Scenario, seed: u64, profile: &Profile) -> Option<Violation> {
    let mut s = scenario.clone();
    s.seed = seed;
    profile.apply(&mut s);
    let out = simulate_checked(&s, EventLog::in_memory(), true, |_, _| {})
        .expect("an in-memory log cannot fail");
    out.violation.or_else(|| {
        out.stopped.map(|stop| Violation {
            invariant: "run-stopped",
            seq: stop.events.saturating_sub(1),
            at: stop.at,
            detail: stop.to_string(),
            chain: Vec::new(),
            names: Default::default(),
        })
    })
}

/// Greedy shrinking: drop one fault at a time while the same invariant
/// still breaks, until no single removal keeps it broken.
pub fn shrink(scenario: &Scenario, seed: u64, profile: &Profile, invariant: &str) -> Profile {
    let mut best = profile.clone();
    let mut i = 0;
    while i < best.items.len() {
        let mut candidate = best.clone();
        candidate.items.remove(i);
        match run_one(scenario, seed, &candidate) {
            Some(v) if v.invariant == invariant => best = candidate,
            _ => i += 1,
        }
    }
    best
}

/// Fuzzes `seeds` on `jobs` threads; `on_done(seed, failed)` is called as
/// each seed finishes (from worker threads). Failures come back in seed
/// order.
pub fn fuzz(
    scenario: &Scenario,
    seeds: &[u64],
    jobs: usize,
    on_done: &(dyn Fn(u64, bool) + Sync),
) -> Vec<Failure> {
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&seed) = seeds.get(i) else { break };
                    let profile = Profile::draw(seed, scenario);
                    let violation = run_one(scenario, seed, &profile);
                    on_done(seed, violation.is_some());
                    if let Some(violation) = violation {
                        let shrunk = shrink(scenario, seed, &profile, violation.invariant);
                        failures.lock().expect("no worker panicked").push(Failure {
                            seed,
                            profile,
                            violation,
                            shrunk,
                        });
                    }
                }
            });
        }
    });
    let mut failures = failures.into_inner().expect("no worker panicked");
    failures.sort_by_key(|f| f.seed);
    failures
}
