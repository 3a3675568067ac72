//! One simulated run of a scenario, start to end: build the world, drive the
//! kernel, finish the log. Wall-clock timing and printing belong to callers.
//! A [`watchdog`] stops a run that would outgrow its memory or whose clock
//! stands still.

pub mod pace;
pub mod watchdog;

use crate::actors::WorldActor;
use crate::check::{Checker, Recorder, Violation};
use crate::inputs::WorldSource;
use crate::model::{Resources, SimTime};
use crate::report::{Stats, Summary, summary::RunFacts};
use crate::scenario::Scenario;
use crate::sim::Kernel;
use crate::sim::faults::{MessageFaultCounts, MessageRules, class_of};
use crate::store::{Digest, EventLog, StoreError};
use crate::world::World;
use pace::{Journal, Pace, RunLog, Unpaced};
use watchdog::{Cause, Holding, RunLimits, Stopped, Watchdog};

/// What a run (simulated or live) leaves behind.
pub struct RunOutput {
    pub stats: Stats,
    pub events: u64,
    pub digest: Digest,
    pub end: SimTime,
    pub actors: Vec<WorldActor>,
    pub capacity: Resources,
    pub hosts: u64,
    /// The first broken invariant; the run stopped there.
    pub violation: Option<Violation>,
    /// Set when the watchdog stopped the run (memory budget, stalled clock).
    pub stopped: Option<Stopped>,
    pub invariant_checks: u64,
}

/// Runs `scenario` to its end, recording into `log`. `progress` is called
/// now and then with the virtual time and the events delivered so far.
/// Invariants are checked every 2^20 events (more rarely in worlds of over
/// 2,048 hosts, see [`checkpoint_mask`]).
pub fn simulate(
    scenario: &Scenario,
    log: EventLog,
    progress: impl FnMut(SimTime, u64),
) -> Result<RunOutput, StoreError> {
    simulate_with(scenario, log, Stats::default(), progress)
}

/// `simulate`, folding notes into the given `stats` (e.g. with a planner's
/// `Detail` attached; it is finished at the run's end).
pub fn simulate_with(
    scenario: &Scenario,
    log: EventLog,
    stats: Stats,
    progress: impl FnMut(SimTime, u64),
) -> Result<RunOutput, StoreError> {
    simulate_world_with(scenario, World::build(scenario), log, stats, progress)
}

/// `simulate_with` on a world built otherwise (a recorded workload's):
/// `scenario` is what its checks and summary read.
pub fn simulate_world_with(
    scenario: &Scenario,
    world: World,
    log: EventLog,
    stats: Stats,
    progress: impl FnMut(SimTime, u64),
) -> Result<RunOutput, StoreError> {
    simulate_checked_with(
        scenario,
        world,
        log,
        stats,
        false,
        RunLimits::default(),
        &mut Unpaced,
        progress,
    )
}

/// A world ready to run: its kernel (with message faults when the world
/// has them, and the start events queued) and what the summary needs.
struct Prepared {
    kernel: Kernel<WorldActor, WorldSource>,
    end: SimTime,
    capacity: Resources,
    hosts: u64,
}

fn prepare(world: World) -> Prepared {
    let capacity = world
        .host_capacities
        .iter()
        .fold(Resources::ZERO, |a, c| a + *c);
    let hosts = world.host_capacities.len() as u64;
    let end = world.end;
    let spawner = world.spawner();
    let rules = (world.message_faults.is_some() || !world.slow_hosts.is_empty()).then(|| {
        let classes = world.names.iter().map(|n| class_of(n)).collect();
        MessageRules::new(world.seed, world.message_faults, world.slow_hosts, classes)
    });
    let mut kernel: Kernel<WorldActor, WorldSource> =
        Kernel::new(world.seed, world.actors, world.names, world.sources);
    if let Some(spawner) = spawner {
        kernel.set_spawner(spawner);
    }
    if let Some(rules) = rules {
        kernel.set_message_rules(rules);
    }
    for actor in world.starts {
        kernel.start(actor);
    }
    Prepared {
        kernel,
        end,
        capacity,
        hosts,
    }
}

/// The kernel of `world`, ready to run as a simulation would run it
/// (message faults, start events): what a served Supervisor's engine runs.
pub fn kernel_for(world: World) -> Kernel<WorldActor, WorldSource> {
    prepare(world).kernel
}

/// An input from outside the world at `at` (a served session's request).
#[derive(Clone, Debug)]
pub struct Injection {
    pub at: SimTime,
    pub from: crate::model::ActorId,
    pub to: crate::model::ActorId,
    pub event: crate::event::Event,
}

/// [`drive`] for a served session: `injections` (in time order) enter at
/// their instants after every event due before them, as the engine
/// injected them, and the run ends at `end`, the session's last instant.
pub fn drive_session<L: crate::sim::RecordSink>(
    world: World,
    injections: Vec<Injection>,
    end: SimTime,
    sink: &mut L,
    mut keep_going: impl FnMut(&L, SimTime, u64) -> bool,
) -> Driven {
    let Prepared {
        mut kernel,
        capacity,
        hosts,
        ..
    } = prepare(world);
    let mut stats = Stats::default();
    let mut pending = injections.into_iter().peekable();
    'run: loop {
        let next = pending.peek().map(|i| i.at);
        let until = next.map_or(end, |at| SimTime(at.0.saturating_sub(1)));
        while kernel.step(until, sink, &mut stats) {
            if !keep_going(sink, kernel.now(), kernel.delivered()) {
                break 'run;
            }
        }
        let Some(at) = next else { break };
        while let Some(i) = pending.next_if(|i| i.at == at) {
            kernel.inject(i.at, i.from, i.to, i.event);
        }
    }
    driven(kernel, stats, (end, capacity, hosts), None)
}

/// What a driven run hands back, its end settled.
fn driven(
    kernel: Kernel<WorldActor, WorldSource>,
    mut stats: Stats,
    (end, capacity, hosts): (SimTime, Resources, u64),
    stopped: Option<Stopped>,
) -> Driven {
    settle(&mut stats, &kernel, end);
    Driven {
        stats,
        events: kernel.delivered(),
        end,
        actors: kernel.into_actors(),
        capacity,
        hosts,
        stopped,
    }
}

/// End-of-run bookkeeping: message-fault counts from the kernel, and the
/// planner's detail (when attached) closed at the run's end.
fn settle(stats: &mut Stats, kernel: &Kernel<WorldActor, WorldSource>, end: SimTime) {
    add_message_faults(stats, kernel.message_fault_counts());
    if let Some(d) = &mut stats.detail {
        d.finish(end);
    }
}

/// [`simulate`], with invariants checked after every event when
/// `every_event` (the causal chain of a violation is then reported too).
pub fn simulate_checked(
    scenario: &Scenario,
    log: EventLog,
    every_event: bool,
    progress: impl FnMut(SimTime, u64),
) -> Result<RunOutput, StoreError> {
    simulate_limited(scenario, log, every_event, RunLimits::default(), progress)
}

/// [`simulate_checked`] within `limits` (`pacsim run --memory-budget`),
/// into the log or the log with a sink beside it ([`pace::Beside`], `run
/// --trace`).
pub fn simulate_limited<L: RunLog>(
    scenario: &Scenario,
    log: L,
    every_event: bool,
    limits: RunLimits,
    progress: impl FnMut(SimTime, u64),
) -> Result<RunOutput, StoreError> {
    simulate_paced(scenario, log, every_event, limits, &mut Unpaced, progress)
}

/// [`simulate_limited`] kept in time by `pace` (`pacsim run --live`): the
/// same deliveries in the same order, so the same log and digest.
pub fn simulate_paced<L: RunLog>(
    scenario: &Scenario,
    log: L,
    every_event: bool,
    limits: RunLimits,
    pace: &mut impl Pace,
    progress: impl FnMut(SimTime, u64),
) -> Result<RunOutput, StoreError> {
    simulate_checked_with(
        scenario,
        World::build(scenario),
        log,
        Stats::default(),
        every_event,
        limits,
        pace,
        progress,
    )
}

/// Worlds with fewer actors keep their tables in the simulation core's
/// own caches. A persisted run's spare core also runs the log's writer, and
/// a thread drawing inputs beside it then spills onto the simulation's core
/// at times: in a world this small that costs less than drawing inline
/// (churn-small persisted 13 % faster), in a larger one it evicts the
/// simulation's tables (churn-xl persisted 11 % slower, churn-large even).
const CACHED_WORLD_ACTORS: usize = 512;

#[allow(clippy::too_many_arguments)]
fn simulate_checked_with<L: RunLog>(
    scenario: &Scenario,
    mut world: World,
    mut log: L,
    mut stats: Stats,
    every_event: bool,
    limits: RunLimits,
    pace: &mut impl Pace,
    mut progress: impl FnMut(SimTime, u64),
) -> Result<RunOutput, StoreError> {
    let stored = log.log().is_stored();
    if limits.draw_inputs_ahead && (!stored || world.actors.len() < CACHED_WORLD_ACTORS) {
        crate::inputs::draw_ahead(&mut world.sources);
    }
    let Prepared {
        mut kernel,
        end,
        capacity,
        hosts,
    } = prepare(world);
    let mut checker = Checker::new(scenario);
    let mut watchdog = Watchdog::new(limits);
    let ended = if every_event {
        let mut recorder = Recorder::new(&mut log);
        let mut ended = run_checked(
            &mut kernel,
            end,
            &mut recorder,
            &mut stats,
            (&mut checker, &mut watchdog),
            Some((FULL_CHECK_MASK, |r: &Recorder<'_, L>| r.last_to())),
            pace,
            &mut progress,
        );
        if let Some(Ended::Violation(v)) = &mut ended {
            v.chain = recorder.chain(v.seq);
            for r in &v.chain {
                for a in [r.from, r.to] {
                    if let Some(n) = kernel.actor_name(a) {
                        v.names.insert(a, n.to_string());
                    }
                }
            }
        }
        ended
    } else {
        run_checked(
            &mut kernel,
            end,
            &mut log,
            &mut stats,
            (&mut checker, &mut watchdog),
            None,
            pace,
            &mut progress,
        )
    };
    let (violation, stopped) = match ended {
        Some(Ended::Journal(e)) => return Err(e),
        Some(Ended::Violation(v)) => (Some(v), None),
        Some(Ended::Stopped(cause)) => {
            let mut stop = stopped(&kernel, cause);
            stop.hints = crate::scenario::sanity::growth_hints(scenario);
            (None, Some(stop))
        }
        None => (None, None),
    };
    // A run an invariant stopped ends at that moment, for every figure.
    let end = violation.as_ref().map_or(end, |v| v.at);
    settle(&mut stats, &kernel, end);
    let events = kernel.delivered();
    let digest = log.into_log().finish()?;
    Ok(RunOutput {
        stats,
        events,
        digest,
        end,
        actors: kernel.into_actors(),
        capacity,
        hosts,
        violation,
        stopped,
        invariant_checks: checker.checks,
    })
}

/// The `unexpected-message` violation once any actor was handed something
/// it has no case for (see `Note::Unexpected`); `None` while none was.
fn unexpected(
    seen: &std::collections::BTreeMap<(&'static str, &'static str), u64>,
    at: SimTime,
    seq: u64,
) -> Option<Violation> {
    if seen.is_empty() {
        return None;
    }
    let what: Vec<String> = seen
        .keys()
        .map(|(actor, kind)| format!("{actor} got {kind}"))
        .collect();
    Some(Violation {
        invariant: "unexpected-message",
        seq,
        at,
        detail: format!(
            "an actor had no case for what it was sent: {}",
            what.join(", ")
        ),
        chain: Vec::new(),
        names: Default::default(),
    })
}

/// How a run ended early.
enum Ended {
    Violation(Violation),
    Stopped(Cause),
    /// A paced run could not make its journal durable.
    Journal(StoreError),
}

/// The watchdog's stop, with what the world held (hints are the caller's:
/// it has the scenario).
fn stopped(kernel: &Kernel<WorldActor, WorldSource>, cause: Cause) -> Stopped {
    let actors = kernel.actors();
    let vms_alive = actors
        .iter()
        .map(|a| match a {
            WorldActor::Placement(p) => p.placed().count() as u64,
            _ => 0,
        })
        .sum();
    let api_objects =
        crate::actors::api_server(actors).map_or(0, |api| api.objects().count() as u64);
    Stopped {
        cause,
        at: kernel.now(),
        events: kernel.delivered(),
        holding: Holding {
            vms_alive,
            pending_deletions: kernel.sources().map(|s| s.pending_deletions() as u64).sum(),
            queued_events: kernel.queued() as u64,
            api_objects,
        },
        hints: Vec::new(),
    }
}

/// Without `--check`, invariants are checked every 2^20 events (about 35
/// checks in the churn-large benchmark), or more rarely in big worlds: a
/// full check costs O(hosts + running VMs), so the spacing grows with the
/// number of hosts (every 2^(⌈log2(512·hosts)⌉) events) to keep the checks'
/// share of a run's cost the same at any size (churn-xl: every 2^23 events).
fn checkpoint_mask(hosts: usize) -> u64 {
    let spacing = (hosts as u64).saturating_mul(512).next_power_of_two();
    spacing.max(1 << 20) - 1
}

/// With `--check`: the full check every 2^10 events (local ones every event).
const FULL_CHECK_MASK: u64 = (1 << 10) - 1;

/// How the checker learns the receiver of the last event (from the sink).
type LastTo<L> = fn(&L) -> Option<crate::model::ActorId>;

/// The kernel loop; stops at the first violation or when the watchdog
/// says so. `every_event`: the local checks after every event and the full
/// check every `mask + 1` events; `None`: the full check at checkpoints
/// only.
#[allow(clippy::too_many_arguments)]
fn run_checked<L: Journal, P: Pace>(
    kernel: &mut Kernel<WorldActor, WorldSource>,
    end: SimTime,
    sink: &mut L,
    stats: &mut Stats,
    (checker, watchdog): (&mut Checker, &mut Watchdog),
    every_event: Option<(u64, LastTo<L>)>,
    pace: &mut P,
    progress: &mut impl FnMut(SimTime, u64),
) -> Option<Ended> {
    let violated = |v: Option<Violation>| v.map(Ended::Violation);
    let hosts = kernel
        .actors()
        .iter()
        .filter(|a| matches!(a, WorldActor::Host(_)))
        .count();
    let mask = every_event.map_or(checkpoint_mask(hosts), |(m, _)| m);
    let due = checker.recovery_due().unwrap_or(SimTime(u64::MAX));
    loop {
        if P::PACED
            && let Some(next) = kernel.next_at().filter(|at| *at <= end)
            && let Err(e) = pace.before(next, kernel.delivered(), sink)
        {
            return Some(Ended::Journal(e));
        }
        if !kernel.step(end, sink, stats) {
            break;
        }
        let delivered = kernel.delivered();
        // Checked here, not in `unexpected`: a call per event measured 1.5 %
        // of a churn run's instructions.
        if !stats.unexpected.is_empty()
            && let Some(v) = unexpected(&stats.unexpected, kernel.now(), delivered - 1)
        {
            return violated(Some(v));
        }
        if delivered & 0xFFFF == 0 {
            progress(kernel.now(), delivered);
        }
        if delivered & watchdog.mask() == 0
            && let Some(cause) = watchdog.check(kernel.now(), delivered)
        {
            return Some(Ended::Stopped(cause));
        }
        if let Some((_, last_to)) = every_event
            && let Some(to) = last_to(sink)
            && let Some(v) = checker.check_event(kernel.actors(), to, kernel.now(), delivered - 1)
        {
            return violated(Some(v));
        }
        if delivered & mask == 0
            && let Some(v) = checker.check(kernel.actors(), kernel.now(), delivered - 1)
        {
            return violated(Some(v));
        }
        if kernel.now() >= due
            && let Some(v) = checker.check_recovery(kernel.actors(), kernel.now(), delivered - 1)
        {
            return violated(Some(v));
        }
    }
    if let Err(e) = pace.after(end, kernel.delivered(), sink) {
        return Some(Ended::Journal(e));
    }
    let last = kernel.delivered().saturating_sub(1);
    if let Some(v) = checker.check(kernel.actors(), end, last) {
        return violated(Some(v));
    }
    if end >= due {
        return violated(checker.check_recovery(kernel.actors(), end, last));
    }
    None
}

fn add_message_faults(stats: &mut Stats, c: MessageFaultCounts) {
    for (kind, n) in [
        ("message_drop", c.dropped),
        ("message_delay", c.delayed),
        ("message_duplicate", c.duplicated),
        ("slow_power_on", c.slowed),
    ] {
        if n > 0 {
            stats.faults.insert(kind, n);
        }
    }
}

impl RunOutput {
    pub fn summary(&mut self, scenario: &Scenario, wall_seconds: f64) -> Summary {
        let facts = RunFacts {
            scenario: &scenario.name,
            seed: scenario.seed,
            policy: scenario.placement.policy.name(),
            end: self.end,
            events: self.events,
            wall_seconds,
            digest: self.digest.to_string(),
            hosts: self.hosts,
            capacity: self.capacity,
            invariant_checks: self.invariant_checks,
            stopped_by: self.violation.as_ref().map(|v| v.invariant),
            datacenter: &scenario.datacenter,
        };
        let mut summary = Summary::new(facts, &mut self.stats);
        if let Some(crate::actors::WorldActor::Placement(p)) = self.actors.first() {
            summary.clusters = crate::report::summary::cluster_vms(&scenario.datacenter, p);
        }
        summary.supervisor =
            crate::report::supervisor::summarize(&self.actors, &self.stats.supervisor, self.end);
        summary
    }
}

/// Rebuilds a run's actors and statistics by delivering `records` to fresh
/// actors, discarding what they send (those sends are themselves records).
/// This is the event-sourcing promise: the log alone rebuilds the state.
pub fn replay_records(
    scenario: &Scenario,
    records: impl IntoIterator<Item = crate::event::Record>,
) -> (Vec<WorldActor>, Stats) {
    use crate::actor::{Actor, Redelivery};
    use crate::random::Streams;
    use crate::sim::NoteSink;

    let world = World::build(scenario);
    let spawner = world.spawner();
    let mut actors = world.actors;
    let mut streams = Streams::new(world.seed, world.names);
    let mut stats = Stats::default();
    for r in records {
        if r.to == crate::model::ActorId::KERNEL {
            if let Some(spawned) = spawner.as_ref().and_then(|f| f(&r.event, r.from)) {
                actors.push(spawned.actor);
                streams.push(spawned.name);
            }
            continue;
        }
        let i = r.to.0 as usize;
        let mut ctx = Redelivery {
            now: r.at,
            me: r.to,
            sender: r.from,
            rng: streams.get(i),
            on_note: |at, note| stats.note(at, note),
        };
        actors[i].handle(r.event, &mut ctx);
    }
    (actors, stats)
}

/// A run driven into any record sink (a verifier), before its digest is
/// known.
pub struct Driven {
    pub stats: Stats,
    pub events: u64,
    pub end: SimTime,
    pub actors: Vec<WorldActor>,
    pub capacity: Resources,
    pub hosts: u64,
    /// Set when the watchdog stopped the run.
    pub stopped: Option<Stopped>,
}

/// Runs `world` to its end into `sink`; `keep_going` is asked after every
/// event (with the sink, the virtual time and the events so far) and stops
/// the run early when it says false (a verifier that found a divergence).
/// The watchdog keeps the default limits; its stop has no hints (the
/// caller has the scenario).
pub fn drive<L: crate::sim::RecordSink>(
    world: World,
    sink: &mut L,
    keep_going: impl FnMut(&L, SimTime, u64) -> bool,
) -> Driven {
    drive_with(world, sink, Stats::default(), keep_going)
}

/// `drive`, folding notes into the given `stats` (e.g. with a `Detail`
/// attached); its detail is finished at the run's end.
pub fn drive_with<L: crate::sim::RecordSink>(
    world: World,
    sink: &mut L,
    stats: Stats,
    keep_going: impl FnMut(&L, SimTime, u64) -> bool,
) -> Driven {
    drive_limited(world, sink, stats, RunLimits::default(), keep_going)
}

/// `drive_with` within `limits` (`run --trace --memory-budget`).
pub fn drive_limited<L: crate::sim::RecordSink>(
    world: World,
    sink: &mut L,
    mut stats: Stats,
    limits: RunLimits,
    mut keep_going: impl FnMut(&L, SimTime, u64) -> bool,
) -> Driven {
    let Prepared {
        mut kernel,
        end,
        capacity,
        hosts,
    } = prepare(world);
    let mut watchdog = Watchdog::new(limits);
    let mut stopped = None;
    while kernel.step(end, sink, &mut stats) && keep_going(sink, kernel.now(), kernel.delivered()) {
        let delivered = kernel.delivered();
        if delivered & watchdog.mask() == 0
            && let Some(cause) = watchdog.check(kernel.now(), delivered)
        {
            stopped = Some(self::stopped(&kernel, cause));
            break;
        }
    }
    driven(kernel, stats, (end, capacity, hosts), stopped)
}

#[cfg(test)]
mod tests {
    use super::{SimTime, checkpoint_mask, unexpected};
    use std::collections::BTreeMap;

    #[test]
    fn any_unexpected_message_is_a_violation_naming_actor_and_kind() {
        let mut seen = BTreeMap::new();
        assert!(unexpected(&seen, SimTime(5), 9).is_none());
        seen.insert(("cns", "VmCreate"), 2);
        seen.insert(("api-server", "HostFailed"), 1);
        let v = unexpected(&seen, SimTime(5), 9).expect("a violation");
        assert_eq!(v.invariant, "unexpected-message");
        assert_eq!((v.at, v.seq), (SimTime(5), 9));
        assert_eq!(
            v.detail,
            "an actor had no case for what it was sent: \
             api-server got HostFailed, cns got VmCreate"
        );
    }

    #[test]
    fn checkpoints_spread_out_only_past_2048_hosts() {
        assert_eq!(checkpoint_mask(0), (1 << 20) - 1);
        assert_eq!(checkpoint_mask(1_000), (1 << 20) - 1);
        assert_eq!(checkpoint_mask(2_048), (1 << 20) - 1);
        assert_eq!(checkpoint_mask(2_049), (1 << 21) - 1);
        assert_eq!(checkpoint_mask(10_000), (1 << 23) - 1);
    }
}
