//! The Supervisor's invariants (names are stable; they appear in reports):
//! - `namespace-limits`: no namespace's charged usage (pods' requests, VMs'
//!   class hardware, claims' storage) exceeds its limits.
//! - `api-objects`: every object whose create the API acknowledged is in
//!   the store or was deleted by a recorded call.
//! - `crash-rebuild`: a part rebuilt from its journal after a crash has the
//!   state it had when it crashed.
//!
//! And, as part of the liveness check `recovery-within`, [`unsettled`].

use crate::actors::WorldActor;
use crate::actors::host::Host;
use crate::api::msg::ApiError;
use crate::api::objects::{Body, Kind, ObjectKey, PodPhase, VmPhase};
use crate::model::{HostId, SimTime};
use crate::supervisor::actors::SupActor;
use crate::supervisor::api_server::ApiServer;
use crate::supervisor::capi::machine::Machine;
use crate::supervisor::capi::rollout::Stage;
use crate::supervisor::spherelet::Spherelet;
use std::collections::BTreeMap;

/// The first broken Supervisor invariant: (name, detail).
pub fn check(actors: &[WorldActor]) -> Option<(&'static str, String)> {
    let api = crate::actors::api_server(actors)?;
    for (ns, used) in api.namespace_usage() {
        let over = |limit: Option<u64>, used: u64| limit.is_some_and(|l| used > l);
        if over(ns.cpu_limit_millis, used.cpu_millis)
            || over(ns.memory_limit_bytes, used.memory_bytes)
            || over(ns.storage_limit_bytes, used.storage_bytes)
        {
            return Some((
                "namespace-limits",
                format!("namespace {} uses {used} past its limits", ns.name),
            ));
        }
    }
    if let Some(key) = api.lost_object() {
        return Some((
            "api-objects",
            format!("{key} was acknowledged but is neither stored nor deleted"),
        ));
    }
    for (i, a) in actors.iter().enumerate() {
        if let WorldActor::Supervisor(part) = a
            && part.rebuild_mismatch
        {
            return Some((
                "crash-rebuild",
                format!(
                    "actor#{i} rebuilt from its journal differs from its state before the crash"
                ),
            ));
        }
    }
    None
}

/// The first Supervisor workload that has not settled although it existed
/// by `since` (halfway from the last fault's end to the deadline, so it
/// had at least half the recovery bound):
/// the API is unavailable; a pod is bound but still Pending (its CRX never
/// started), or Pending and never tried by the scheduler (no reason); a
/// powered-on VM is still Creating, or Created in another power state; a
/// pod is Running although its node's Spherelet does not run it or its
/// CRX is not running on the host (a ghost: nothing would ever replace it).
/// Pending with a reason (no room, quota, a failed datastore) and Failed
/// are settled: they say why. For guest clusters, see [`guest_unsettled`].
pub fn unsettled(actors: &[WorldActor], since: SimTime) -> Option<String> {
    let api = crate::actors::api_server(actors)?;
    if !api.available() {
        return Some("the Supervisor's API is unavailable".into());
    }
    if let Some(why) = guest_unsettled(actors, api, since) {
        return Some(why);
    }
    let nodes = Nodes::of(actors);
    api.objects()
        .filter(|o| o.meta.creation <= since)
        .find_map(|o| {
            let key = o.key();
            match &o.body {
                Body::Pod(p) if p.phase == PodPhase::Running => {
                    let node = p.node.as_deref()?;
                    nodes.ghost(&key, node)
                }
                Body::Pod(p) if p.phase == PodPhase::Pending => match (&p.node, &p.reason) {
                    (Some(node), _) => {
                        Some(format!("pod {key} is bound to {node} but still Pending"))
                    }
                    (None, None) => Some(format!(
                        "pod {key} is Pending and the scheduler never tried it"
                    )),
                    (None, Some(_)) => None,
                },
                Body::VirtualMachine(v)
                    if v.power_state == crate::api::objects::PowerState::PoweredOn =>
                {
                    match v.phase {
                        VmPhase::Creating => Some(format!("VM {key} is still Creating")),
                        VmPhase::Created if v.actual_power != v.power_state => Some(format!(
                            "VM {key} is {} but wants {}",
                            v.actual_power.name(),
                            v.power_state.name()
                        )),
                        _ => None,
                    }
                }
                _ => None,
            }
        })
}

/// The Spherelets by node name, and the hosts, to look a pod's CRX up.
struct Nodes<'a> {
    spherelets: BTreeMap<&'a str, &'a Spherelet>,
    hosts: BTreeMap<HostId, &'a Host>,
}

impl<'a> Nodes<'a> {
    fn of(actors: &'a [WorldActor]) -> Self {
        let mut nodes = Nodes {
            spherelets: BTreeMap::new(),
            hosts: BTreeMap::new(),
        };
        for a in actors {
            match a {
                WorldActor::Host(h) => {
                    nodes.hosts.insert(h.id(), h);
                }
                WorldActor::Supervisor(part) => {
                    if let SupActor::Spherelet(s) = &part.actor
                        && part.is_up()
                    {
                        nodes.spherelets.insert(s.node(), s);
                    }
                }
                _ => {}
            }
        }
        nodes
    }

    /// Why a pod the API has Running on `node` is not running there.
    fn ghost(&self, pod: &ObjectKey, node: &str) -> Option<String> {
        let spherelet = self.spherelets.get(node)?;
        let Some((vm, booted)) = spherelet.crx_of(pod) else {
            return Some(format!(
                "pod {pod} is Running on {node}, but its Spherelet does not run it"
            ));
        };
        let host = self.hosts.get(&spherelet.host())?;
        (booted && !host.runs(vm)).then(|| {
            format!("pod {pod} is Running on {node}, but its CRX {vm} is not running there")
        })
    }
}

/// The first guest cluster (not being deleted) that has not settled: one
/// of its machines that existed before `since` (and is not being deleted)
/// is not a Ready node, or its TKC existed before `since` and is still
/// Creating with no machine at all. A machine (not being replaced) waiting
/// for a reason that lasts is settled, as a pod Pending with a reason is:
/// its VM create was refused (quota, a failed datastore; not an unavailable
/// API), or its VM says why it is not running (no room, a failed
/// datastore). Machines
/// created later (a scale-up, an upgrade's rollout, a remediation) may
/// still be on their way and are not judged.
fn guest_unsettled(actors: &[WorldActor], api: &ApiServer, since: SimTime) -> Option<String> {
    let capi = actors.iter().find_map(|a| match a {
        WorldActor::Supervisor(part) => match &part.actor {
            SupActor::Capi(c) => Some(c),
            _ => None,
        },
        _ => None,
    })?;
    let waits_with_a_reason = |tkc: &ObjectKey, name: &str, m: &Machine| {
        if m.stage != Stage::Active {
            return false; // being replaced: up to Cluster API alone
        }
        if !m.vm_exists {
            return m
                .refused
                .as_ref()
                .is_some_and(|e| !matches!(e, ApiError::Unavailable(_)));
        }
        let vm = ObjectKey::new(Kind::VirtualMachine, &tkc.namespace, name);
        api.get(&vm)
            .is_some_and(|o| matches!(&o.body, Body::VirtualMachine(v) if v.reason.is_some()))
    };
    capi.clusters()
        .iter()
        .filter(|(_, c)| !c.deleting && c.created <= since)
        .find_map(|(tkc, c)| {
            let stuck = c.machines.iter().find(|(name, m)| {
                m.created <= since
                    && !m.ready()
                    && m.deleting.is_none()
                    && !waits_with_a_reason(tkc, name, m)
            });
            if let Some((name, m)) = stuck {
                return Some(format!("machine {name} of {tkc} is still {:?}", m.phase));
            }
            (c.provisioned.is_none() && c.machines.is_empty())
                .then(|| format!("{tkc} is still Creating, with no machine"))
        })
}
