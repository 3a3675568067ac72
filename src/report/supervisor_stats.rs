//! The Supervisor's statistics, folded from its notes as the run goes:
//! API outcomes, pod start and time-to-Ready histograms, evictions, node
//! readiness over time and control-plane outages.

use crate::api::notes::{CallExample, SupNote};
use crate::model::{HostId, SimTime};
use hdrhistogram::Histogram;
use std::collections::{BTreeMap, BTreeSet};

pub struct SupStats {
    pub calls_accepted: u64,
    pub calls_refused: BTreeMap<&'static str, u64>,
    pub calls_denied: u64,
    /// Refused and denied calls by (reason, resource): how many, and the
    /// first one. The reason is the refusal's kind (`quota_exceeded`...)
    /// or `denied`.
    pub call_problems: BTreeMap<(&'static str, &'static str), (u64, CallExample)>,
    /// StartPod at the Spherelet → Running (ns).
    pub pod_start: Histogram<u64>,
    /// Pod creation → Running (ns).
    pub pod_ready: Histogram<u64>,
    pub pods_evicted: u64,
    pub pods_succeeded: u64,
    pub pods_failed: u64,
    ready: BTreeSet<HostId>,
    not_ready: BTreeSet<HostId>,
    /// (time, Ready nodes, NotReady nodes) at every change.
    pub node_timeline: Vec<(SimTime, u32, u32)>,
    pub control_plane_outages: u64,
    unavailable_since: Option<SimTime>,
    unavailable_nanos: u64,
    /// Crashed parts rebuilt from their journals, and rebuilds whose state
    /// differed from the state before the crash.
    pub rebuilds: u64,
    pub rebuild_mismatches: u64,
    /// Restarted watching parts that listed again, and the watch events
    /// those lists made up for.
    pub relists: u64,
    pub relist_missed: u64,
    /// Guest clusters: TKC create -> Running, and upgrade durations (ns).
    pub guest_provisioning: Vec<u64>,
    pub guest_upgrades: Vec<u64>,
    pub guest_remediations: u64,
    pub guest_scale_ups: u64,
    pub guest_scale_downs: u64,
}

impl Default for SupStats {
    fn default() -> Self {
        let hist = || Histogram::new_with_bounds(1, 1 << 52, 3).expect("valid histogram bounds");
        SupStats {
            calls_accepted: 0,
            calls_refused: BTreeMap::new(),
            calls_denied: 0,
            call_problems: BTreeMap::new(),
            pod_start: hist(),
            pod_ready: hist(),
            pods_evicted: 0,
            pods_succeeded: 0,
            pods_failed: 0,
            ready: BTreeSet::new(),
            not_ready: BTreeSet::new(),
            node_timeline: Vec::new(),
            control_plane_outages: 0,
            unavailable_since: None,
            unavailable_nanos: 0,
            rebuilds: 0,
            rebuild_mismatches: 0,
            relists: 0,
            relist_missed: 0,
            guest_provisioning: Vec::new(),
            guest_upgrades: Vec::new(),
            guest_remediations: 0,
            guest_scale_ups: 0,
            guest_scale_downs: 0,
        }
    }
}

impl SupStats {
    fn call_problem(&mut self, reason: &'static str, example: CallExample) {
        let resource = example.object.as_ref().map_or("-", |k| k.kind.resource());
        (self.call_problems.entry((reason, resource)))
            .and_modify(|(n, _)| *n += 1)
            .or_insert((1, example));
    }

    pub fn note(&mut self, at: SimTime, note: SupNote) {
        match note {
            SupNote::CallAccepted => self.calls_accepted += 1,
            SupNote::CallRefused { kind, example } => {
                *self.calls_refused.entry(kind).or_default() += 1;
                self.call_problem(kind, *example);
            }
            SupNote::CallDenied { example } => {
                self.calls_denied += 1;
                self.call_problem("denied", *example);
            }
            SupNote::PodStarted { latency } => {
                self.pod_start.saturating_record(latency.0.max(1));
            }
            SupNote::PodReady { after } => self.pod_ready.saturating_record(after.0.max(1)),
            SupNote::PodFinished { failed: true } => self.pods_failed += 1,
            SupNote::PodFinished { failed: false } => self.pods_succeeded += 1,
            SupNote::PodEvicted => self.pods_evicted += 1,
            SupNote::NodeReady { host, ready } => {
                if ready {
                    self.not_ready.remove(&host);
                    self.ready.insert(host);
                } else {
                    self.ready.remove(&host);
                    self.not_ready.insert(host);
                }
                let point = (at, self.ready.len() as u32, self.not_ready.len() as u32);
                match self.node_timeline.last_mut() {
                    Some(last) if last.0 == at => *last = point,
                    _ => self.node_timeline.push(point),
                }
            }
            SupNote::ControlPlane { available: false } => {
                self.control_plane_outages += 1;
                self.unavailable_since = Some(at);
            }
            // Counted with the other faults, in the run's `faults`.
            SupNote::Fault { .. } => {}
            SupNote::Rebuilt { equal } => {
                self.rebuilds += 1;
                self.rebuild_mismatches += u64::from(!equal);
            }
            SupNote::Relisted { missed } => {
                self.relists += 1;
                self.relist_missed += missed;
            }
            SupNote::GuestProvisioned { after } => self.guest_provisioning.push(after.0),
            SupNote::GuestUpgraded { took } => self.guest_upgrades.push(took.0),
            SupNote::GuestRemediated => self.guest_remediations += 1,
            SupNote::GuestScaled { up: true } => self.guest_scale_ups += 1,
            SupNote::GuestScaled { up: false } => self.guest_scale_downs += 1,
            SupNote::ControlPlane { available: true } => {
                if let Some(since) = self.unavailable_since.take() {
                    self.unavailable_nanos += at.since(since).0;
                }
            }
        }
    }

    /// Time the API was unavailable, counting an outage still open at `end`.
    pub fn unavailable_nanos(&self, end: SimTime) -> u64 {
        self.unavailable_nanos + self.unavailable_since.map_or(0, |s| end.since(s).0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::objects::{Kind, ObjectKey};

    fn example(name: &str, message: &str) -> Box<CallExample> {
        Box::new(CallExample {
            object: Some(ObjectKey::new(Kind::Pod, "ns", name)),
            message: message.into(),
        })
    }

    #[test]
    fn refusals_group_by_reason_and_resource_keeping_the_first_call() {
        let mut s = SupStats::default();
        let t = SimTime(0);
        s.note(
            t,
            SupNote::CallRefused {
                kind: "quota_exceeded",
                example: example("a", "first"),
            },
        );
        s.note(
            t,
            SupNote::CallRefused {
                kind: "quota_exceeded",
                example: example("b", "second"),
            },
        );
        s.note(
            t,
            SupNote::CallDenied {
                example: example("c", "no role"),
            },
        );
        s.note(
            t,
            SupNote::CallRefused {
                kind: "unavailable",
                example: Box::new(CallExample {
                    object: None,
                    message: "down".into(),
                }),
            },
        );
        let (n, first) = &s.call_problems[&("quota_exceeded", "pods")];
        assert_eq!((*n, first.message.as_str()), (2, "first"));
        assert_eq!(s.call_problems[&("denied", "pods")].0, 1);
        assert_eq!(s.call_problems[&("unavailable", "-")].0, 1);
        assert_eq!((s.calls_refused["quota_exceeded"], s.calls_denied), (2, 1));
    }
}
