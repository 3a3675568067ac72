//! Invariants of the simulated world, checked from outside the actors: the
//! checker reads `&[WorldActor]` through read-only accessors and reports the
//! first violation with its causal chain. With `--check` (tests, fuzzing)
//! the invariants local to the event's receiver are checked after every
//! event ([`Checker::check_event`], O(VMs on one host)) and all of them
//! every 2^10 events and at the end; otherwise all of them every 2^20
//! events (more rarely in big worlds, see `run::checkpoint_mask`) and at
//! the end. World layout assumed: placement is actor 0, host i is actor 1+i.
//!
//! Safety invariants (names are stable; they appear in reports):
//! - `host-capacity`: no host's running VMs exceed its capacity.
//! - `failed-host-empty`: a host that is down runs nothing.
//! - `vm-single-host`: a VM runs on at most one host that is not isolated
//!   (an isolated host's copies are fenced: they lost their datastore lock
//!   and are powered off when the partition heals). With message or
//!   slow-host faults, the source of a maintenance migration is excused
//!   until its held-back power-off arrives (no acknowledgement is modelled).
//! - `placement-agreement`: every VM placement believes is on host H, whose
//!   power-on was due before now (`on_at < now`), runs on H — unless H is down,
//!   isolated, or of another incarnation than placement believes (placement
//!   has not heard yet). Not checked with message or slow-host faults: a
//!   held-back power-on is in flight past `on_at`.
//! - `ha-reservation`: the VMs admitted fit in the HA admission capacity.
//! - the Supervisor's: `namespace-limits`, `api-objects`, `crash-rebuild`
//!   (see `supervisor.rs`).
//!
//! Liveness (`recovery-within`, with `expect_recovery_within:` and only
//! scheduled faults): at `last fault end + bound`, no HA restart is pending
//! and every VM placement believes placed runs where it believes (with
//! message or slow-host faults, every VM whose power-on was due half the
//! bound before or earlier: one due just now may still be in flight); with
//! a Supervisor, its workloads that existed halfway to the deadline have
//! settled too (see `supervisor::unsettled`).

mod chain;
mod supervisor;

pub use chain::Recorder;

use crate::actors::WorldActor;
use crate::actors::placement::Placement;
use crate::event::Record;
use crate::model::{ActorId, HostId, SimDuration, SimTime, VmId};
use crate::scenario::Scenario;

/// The first broken invariant of a run.
#[derive(Clone, Debug)]
pub struct Violation {
    pub invariant: &'static str,
    /// The last event delivered when it was found.
    pub seq: u64,
    pub at: SimTime,
    pub detail: String,
    /// The event at `seq` and its causes, newest first (as far as the
    /// recorder's ring reaches; empty without a recorder).
    pub chain: Vec<Record>,
    /// The stable names of the actors in `chain` (`host/esx-01`), for
    /// printing it; an actor without one prints as its id.
    pub names: std::collections::BTreeMap<ActorId, String>,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "invariant `{}` violated at seq {} (t={}): {}",
            self.invariant, self.seq, self.at, self.detail
        )?;
        let name = |a: ActorId| self.names.get(&a).cloned().unwrap_or_else(|| a.to_string());
        for r in &self.chain {
            let cause = r
                .cause
                .map_or(String::new(), |c| format!(" (cause seq {c})"));
            writeln!(
                f,
                "  seq {} t={} {} -> {} {}{cause}",
                r.seq,
                r.at,
                name(r.from),
                name(r.to),
                r.event.describe()
            )?;
        }
        Ok(())
    }
}

pub struct Checker {
    /// False with message faults (see `placement-agreement`).
    agreement: bool,
    /// When the liveness check is due, until it has run.
    recovery_due: Option<SimTime>,
    /// The end of the last scheduled fault (host or Supervisor part).
    recovery_since: SimTime,
    /// How long before the deadline a power-on must have been due for the
    /// liveness check to judge it: zero, or half the bound with message or
    /// slow-host faults, which may hold a power-on in flight past its due
    /// time (and never stop, so no deadline comes after them).
    recovery_margin: SimDuration,
    /// Host names by `HostId`, for messages.
    host_names: Vec<String>,
    pub checks: u64,
}

impl Checker {
    pub fn new(scenario: &Scenario) -> Checker {
        let host_faults = scenario
            .faults
            .scheduled
            .iter()
            .map(crate::inputs::fault_end);
        let part_faults = (scenario.faults.supervisor.iter())
            .map(|f| f.at.saturating_add(f.lasts.unwrap_or(SimDuration::ZERO)));
        let last = host_faults
            .chain(part_faults)
            .max()
            .unwrap_or(SimTime::ZERO);
        let recovery_due = match scenario.expect_recovery_within {
            Some(bound) if scenario.faults.random.is_empty() => Some(last.saturating_add(bound)),
            _ => None,
        };
        let agreement = scenario.faults.messages.is_none()
            && !(scenario.faults.scheduled.iter())
                .any(|f| f.kind == crate::scenario::HostFaultKind::Slow);
        let recovery_margin = match scenario.expect_recovery_within {
            Some(bound) if !agreement => SimDuration(bound.0 / 2),
            _ => SimDuration::ZERO,
        };
        Checker {
            agreement,
            recovery_due,
            recovery_since: last,
            recovery_margin,
            host_names: (scenario.datacenter.hosts.iter())
                .map(|h| h.name.clone())
                .collect(),
            checks: 0,
        }
    }

    /// A host as the scenario names it.
    fn host(&self, id: HostId) -> String {
        (self.host_names.get(id.0 as usize)).map_or_else(|| id.to_string(), |n| format!("host {n}"))
    }

    /// The liveness deadline, if one is still to be checked.
    pub fn recovery_due(&self) -> Option<SimTime> {
        self.recovery_due
    }

    /// Safety invariants after event `seq` at `now`.
    pub fn check(&mut self, actors: &[WorldActor], now: SimTime, seq: u64) -> Option<Violation> {
        self.checks += 1;
        let fail = |invariant, detail: String| Violation {
            invariant,
            seq,
            at: now,
            detail,
            chain: Vec::new(),
            names: Default::default(),
        };
        let mut hosts = Vec::new();
        let mut placement: Option<&Placement> = None;
        for a in actors {
            match a {
                WorldActor::Host(h) => hosts.push(h),
                WorldActor::Placement(p) => placement = Some(p),
                WorldActor::Workload(_) | WorldActor::Supervisor(_) => {}
            }
        }
        let mut running: Vec<(VmId, HostId)> = Vec::new();
        for h in &hosts {
            if !h.used().fits_in(&h.capacity()) {
                return Some(fail(
                    "host-capacity",
                    format!(
                        "{} uses {} of {}",
                        self.host(h.id()),
                        h.used(),
                        h.capacity()
                    ),
                ));
            }
            if !h.is_up() && h.runs_any() {
                return Some(fail(
                    "failed-host-empty",
                    format!("{} is down but runs VMs", self.host(h.id())),
                ));
            }
            if !h.is_isolated() {
                running.extend(h.vm_ids_unsorted().map(|vm| (vm, h.id())));
            }
        }
        running.sort_unstable();
        let p = placement?;
        let lossy = !self.agreement;
        if let Some(w) = running
            .windows(2)
            .find(|w| w[0].0 == w[1].0 && !(lossy && in_migration(p, w[0].0, w[0].1, w[1].1)))
        {
            return Some(fail(
                "vm-single-host",
                format!(
                    "{} runs on {} and {}",
                    w[0].0,
                    self.host(w[0].1),
                    self.host(w[1].1)
                ),
            ));
        }
        if let Some((admitted, cap)) = p.admissions().find(|(a, cap)| !a.fits_in(cap)) {
            return Some(fail(
                "ha-reservation",
                format!("admitted {admitted} exceeds admission capacity {cap}"),
            ));
        }
        if self.agreement
            && let Some(found) = disagreement(p, &hosts, now, false, sorted_lookup(&running))
        {
            return Some(fail("placement-agreement", disagreement_text(self, found)));
        }
        if let Some((invariant, detail)) = supervisor::check(actors) {
            return Some(fail(invariant, detail));
        }
        None
    }

    /// The invariants an event to `to` can break locally, O(VMs on one
    /// host): after every event with `--check`. For a host: its capacity,
    /// nothing running while down, none of its VMs running on the host
    /// placement believes it is on, and placement's VMs for it running
    /// there; for placement: the HA reservation. Between these, [`check`]
    /// covers every host (every 2^10 events with `--check`, and at the end).
    pub fn check_event(
        &mut self,
        actors: &[WorldActor],
        to: ActorId,
        now: SimTime,
        seq: u64,
    ) -> Option<Violation> {
        self.checks += 1;
        let fail = |invariant, detail: String| {
            Some(Violation {
                invariant,
                seq,
                at: now,
                detail,
                chain: Vec::new(),
                names: Default::default(),
            })
        };
        let WorldActor::Placement(p) = &actors[0] else {
            return None;
        };
        let h = match &actors[to.0 as usize] {
            WorldActor::Host(h) => h,
            WorldActor::Placement(_) => {
                return match p.admissions().find(|(a, cap)| !a.fits_in(cap)) {
                    Some((admitted, cap)) => fail(
                        "ha-reservation",
                        format!("admitted {admitted} exceeds admission capacity {cap}"),
                    ),
                    _ => None,
                };
            }
            WorldActor::Workload(_) | WorldActor::Supervisor(_) => return None,
        };
        if !h.used().fits_in(&h.capacity()) {
            return fail(
                "host-capacity",
                format!(
                    "{} uses {} of {}",
                    self.host(h.id()),
                    h.used(),
                    h.capacity()
                ),
            );
        }
        if !h.is_up() && h.runs_any() {
            return fail(
                "failed-host-empty",
                format!("{} is down but runs VMs", self.host(h.id())),
            );
        }
        let host_of = |id: HostId| match &actors[1 + id.0 as usize] {
            WorldActor::Host(o) => Some(o),
            _ => None,
        };
        if !h.is_isolated() {
            for (vm, _) in h.vms() {
                if let Some((other, _)) = p.where_is(vm)
                    && other != h.id()
                    && let Some(o) = host_of(other)
                    && !o.is_isolated()
                    && o.runs(vm)
                    && (self.agreement || !in_migration(p, vm, h.id(), other))
                {
                    return fail(
                        "vm-single-host",
                        format!(
                            "{vm} runs on {} and {}",
                            self.host(h.id()),
                            self.host(other)
                        ),
                    );
                }
            }
        }
        let b = p.host_belief(h.id());
        let excused = !b.up || !h.is_up() || h.is_isolated() || h.incarnation() != b.incarnation;
        if self.agreement && !excused {
            for vm in p.vms_on(h.id()) {
                if let Some((_, on_at)) = p.where_is(vm)
                    && on_at < now
                    && !h.runs(vm)
                {
                    return fail(
                        "placement-agreement",
                        format!(
                            "placement believes {vm} runs on {} since {on_at}, but it does not",
                            self.host(h.id())
                        ),
                    );
                }
            }
        }
        None
    }

    /// The liveness check, once `now` has reached its deadline.
    pub fn check_recovery(
        &mut self,
        actors: &[WorldActor],
        now: SimTime,
        seq: u64,
    ) -> Option<Violation> {
        let due = self.recovery_due?;
        if now < due {
            return None;
        }
        self.recovery_due = None;
        self.checks += 1;
        let mut hosts = Vec::new();
        let mut placement = None;
        for a in actors {
            match a {
                WorldActor::Host(h) => hosts.push(h),
                WorldActor::Placement(p) => placement = Some(p),
                WorldActor::Workload(_) | WorldActor::Supervisor(_) => {}
            }
        }
        let p = placement?;
        let detail = if p.pending_restarts() > 0 {
            Some(format!(
                "{} VMs still wait for an HA restart",
                p.pending_restarts()
            ))
        } else {
            let judged_before = SimTime(now.0.saturating_sub(self.recovery_margin.0));
            disagreement(p, &hosts, judged_before, true, |vm, host| {
                hosts[host.0 as usize].runs(vm)
            })
            .map(|found| disagreement_text(self, found))
            .or_else(|| {
                // What existed half the bound before the deadline has had
                // at least that long since the last fault ended.
                let half = (due.0 - self.recovery_since.0) / 2;
                supervisor::unsettled(actors, SimTime(self.recovery_since.0 + half))
            })
        };
        detail.map(|detail| Violation {
            invariant: "recovery-within",
            seq,
            at: now,
            detail,
            chain: Vec::new(),
            names: Default::default(),
        })
    }
}

/// Placement believes `vm` runs on `host` since `on_at`, but it does not.
fn disagreement_text(checker: &Checker, (vm, host, on_at): (VmId, HostId, SimTime)) -> String {
    format!(
        "placement believes {vm} runs on {} since {on_at}, but it does not",
        checker.host(host)
    )
}

/// The first VM placement believes runs where it does not: (VM, host,
/// since). `strict`: no
/// excuse for hosts placement has not heard from yet. `runs(vm, host)`:
/// whether the host runs the VM (unless `strict`, never asked of an
/// isolated host, which the whole-world check leaves out of its list).
fn disagreement(
    p: &Placement,
    hosts: &[&crate::actors::Host],
    now: SimTime,
    strict: bool,
    mut runs: impl FnMut(VmId, HostId) -> bool,
) -> Option<(VmId, HostId, SimTime)> {
    // Whether each host is excused, worked out once per host: per VM, its
    // host would be a cache miss in a big world (a quarter of the check's
    // time in churn-xl).
    let excused: Vec<bool> = if strict {
        Vec::new()
    } else {
        p.host_beliefs()
            .zip(hosts)
            .map(|(b, h)| {
                !b.up || !h.is_up() || h.is_isolated() || h.incarnation() != b.incarnation
            })
            .collect()
    };
    for a in p.placed() {
        // At `on_at == now` the power-on may still be queued behind the
        // event just handled: only earlier arrivals are certain.
        if a.on_at >= now {
            continue;
        }
        if !strict && excused[a.host.0 as usize] {
            continue;
        }
        if !runs(a.vm, a.host) {
            return Some((a.vm, a.host, a.on_at));
        }
    }
    None
}

/// Whether `(vm, host)` is in `running` (sorted), for questions asked in
/// increasing VM order as [`Placement::placed`] lists them: a cursor walks
/// the list once instead of a binary search per VM. A question for an
/// earlier VM than the last is still answered, by searching again.
fn sorted_lookup(running: &[(VmId, HostId)]) -> impl FnMut(VmId, HostId) -> bool + '_ {
    let mut next = 0;
    move |vm, host| {
        if next > 0 && running[next - 1].0 >= vm {
            next = running.partition_point(|e| e.0 < vm);
        }
        while running.get(next).is_some_and(|e| e.0 < vm) {
            next += 1;
        }
        running[next..]
            .iter()
            .take_while(|e| e.0 == vm)
            .any(|e| e.1 == host)
    }
}

/// With message or slow-host faults, a migrated VM may still run on the host
/// it left until the held-back power-off arrives there (no acknowledgement
/// exists to wait for): `a` and `b` are that source and its destination.
fn in_migration(p: &Placement, vm: VmId, a: HostId, b: HostId) -> bool {
    let (Some((dest, _)), Some(source)) = (p.where_is(vm), p.migration_source(vm)) else {
        return false;
    };
    (dest, source) == (a, b) || (dest, source) == (b, a)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cursor answers like a search of the whole list, for questions
    /// in increasing order (the common case) and out of it.
    #[test]
    fn sorted_lookup_answers_like_a_search_in_any_order() {
        let running: Vec<(VmId, HostId)> = [(1, 0), (3, 2), (3, 5), (4, 1), (9, 0)]
            .into_iter()
            .map(|(v, h)| (VmId(v), HostId(h)))
            .collect();
        let questions = [(0, 0), (1, 0), (3, 5), (3, 2), (4, 2), (9, 0), (10, 0)];
        let mut in_order = sorted_lookup(&running);
        let mut backwards = sorted_lookup(&running);
        for (vm, host) in questions {
            let q = (VmId(vm), HostId(host));
            let want = running.binary_search(&q).is_ok();
            assert_eq!(in_order(q.0, q.1), want, "{q:?} in order");
        }
        for (vm, host) in questions.into_iter().rev() {
            let q = (VmId(vm), HostId(host));
            assert_eq!(
                backwards(q.0, q.1),
                running.binary_search(&q).is_ok(),
                "{q:?} backwards"
            );
        }
    }
    use crate::actor::Actor;
    use crate::actor::testing::TestCtx;
    use crate::actors::Host;
    use crate::event::Event;
    use crate::model::{Dist, Resources};
    use crate::scenario::PlacementPolicy;

    /// Placement (actor 0) and two 4-core hosts (actors 1 and 2); two 2-core
    /// VMs, both placed on host 0, whose power-ons `deliver` decides where
    /// they go.
    fn world(deliver: impl Fn(VmId, ActorId) -> Vec<ActorId>) -> Vec<WorldActor> {
        let cap = Resources::cores(4, 16);
        let size = Resources::cores(2, 8);
        let views: Vec<(ActorId, Resources)> = (1..=2).map(|a| (ActorId(a), cap)).collect();
        let mut placement = Placement::new(PlacementPolicy::FirstFit, &views, Dist::Fixed(0));
        let mut hosts: Vec<Host> = (0..2)
            .map(|h| Host::new(HostId(h), cap, ActorId(0), None))
            .collect();
        let mut ctx = TestCtx::new(ActorId(0));
        for vm in [VmId(0), VmId(1)] {
            placement.handle(Event::VmRequested { vm, size }, &mut ctx);
            for (to, _, power_on) in ctx.take_sent() {
                for host in deliver(vm, to) {
                    let mut host_ctx = TestCtx::new(host);
                    hosts[host.0 as usize - 1].handle(power_on.clone(), &mut host_ctx);
                }
            }
        }
        std::iter::once(WorldActor::Placement(Box::new(placement)))
            .chain(hosts.into_iter().map(WorldActor::Host))
            .collect()
    }

    fn verdict(actors: &[WorldActor]) -> Option<(&'static str, String)> {
        let mut checker = Checker {
            agreement: true,
            recovery_due: None,
            recovery_since: SimTime::ZERO,
            recovery_margin: SimDuration::ZERO,
            host_names: vec!["esx-01".into(), "esx-02".into()],
            checks: 0,
        };
        let v = checker.check(actors, SimTime(1), 7)?;
        Some((v.invariant, v.detail))
    }

    /// With message faults the liveness check judges only power-ons due
    /// half the bound before its deadline or earlier: one lost for good is
    /// still found, one that may still be in flight is not.
    #[test]
    fn with_message_faults_liveness_judges_power_ons_due_a_margin_ago() {
        const MIN: u64 = 60_000_000_000;
        let lost_second = world(|vm, to| if vm == VmId(1) { vec![] } else { vec![to] });
        let recovery = |due: u64| {
            let mut checker = Checker {
                agreement: false,
                recovery_due: Some(SimTime(due)),
                recovery_since: SimTime::ZERO,
                recovery_margin: SimDuration(5 * MIN),
                host_names: Vec::new(),
                checks: 0,
            };
            (checker.check_recovery(&lost_second, SimTime(due), 9)).map(|v| v.detail)
        };
        assert_eq!(
            recovery(10 * MIN).as_deref(),
            Some("placement believes vm-1 runs on host#0 since 00:00:00, but it does not"),
            "a checker without names (a test fixture) falls back to ids"
        );
        assert_eq!(recovery(4 * MIN), None);
    }

    #[test]
    fn a_world_where_hosts_run_what_placement_believes_passes() {
        assert_eq!(verdict(&world(|_, to| vec![to])), None);
    }

    #[test]
    fn a_vm_placement_believes_placed_but_not_running_is_reported() {
        let actors = world(|vm, to| if vm == VmId(1) { vec![] } else { vec![to] });
        let (invariant, detail) = verdict(&actors).expect("a violation");
        assert_eq!(invariant, "placement-agreement");
        assert!(detail.contains(&VmId(1).to_string()), "{detail}");
    }

    #[test]
    fn a_vm_running_on_two_hosts_is_reported() {
        let actors = world(|vm, to| {
            if vm == VmId(0) {
                vec![ActorId(1), ActorId(2)]
            } else {
                vec![to]
            }
        });
        let (invariant, detail) = verdict(&actors).expect("a violation");
        assert_eq!(invariant, "vm-single-host");
        assert!(detail.contains(&VmId(0).to_string()), "{detail}");
        // Hosts by the scenario's names.
        assert!(
            detail.contains("host esx-01") && detail.contains("host esx-02"),
            "{detail}"
        );
    }
}
