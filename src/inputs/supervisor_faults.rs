//! Scheduled faults of the Supervisor's parts as inputs: process crashes
//! and restarts, hangs, control-plane VM failures, datastore failures.

use super::{Input, Source, VmIdAlloc};
use crate::api::SupMsg;
use crate::api::addrs::{Addrs, Part};
use crate::model::{ActorId, SimTime};
use crate::scenario::{SupervisorFault, SupervisorFaultKind};

pub struct SupervisorFaults {
    timeline: std::vec::IntoIter<Input>,
}

/// The actor of a control-plane component name.
pub fn component_actor(addrs: &Addrs, name: &str) -> Option<ActorId> {
    Part::of_component(name).map(|part| addrs[part])
}

impl SupervisorFaults {
    pub fn new(faults: &[SupervisorFault], addrs: &Addrs) -> Self {
        let mut timeline: Vec<(SimTime, usize, Input)> = Vec::new();
        for (i, f) in faults.iter().enumerate() {
            let mut push = |at: SimTime, to: ActorId, msg: SupMsg| {
                let event = msg.event();
                timeline.push((at, i, Input { at, to, event }));
            };
            let end = f.lasts.map(|d| f.at.saturating_add(d));
            let mut process = |targets: Vec<ActorId>, down: SupMsg, up: SupMsg| {
                for &t in &targets {
                    push(f.at, t, down.clone());
                }
                if let Some(end) = end {
                    for &t in &targets {
                        push(end, t, up.clone());
                    }
                }
            };
            match &f.kind {
                SupervisorFaultKind::SphereletCrash(h) => {
                    process(vec![addrs.spherelet(*h)], SupMsg::Crash, SupMsg::Restart)
                }
                SupervisorFaultKind::SphereletHang(h) => {
                    process(vec![addrs.spherelet(*h)], SupMsg::Hang, SupMsg::Unhang)
                }
                SupervisorFaultKind::ControlPlaneCrash(parts) => {
                    let targets = parts
                        .iter()
                        .filter_map(|p| component_actor(addrs, p))
                        .collect();
                    process(targets, SupMsg::Crash, SupMsg::Restart)
                }
                SupervisorFaultKind::ControlPlaneVm(member) => push(
                    f.at,
                    addrs[Part::ApiServer],
                    SupMsg::ControlPlaneVmFailed { member: *member },
                ),
                SupervisorFaultKind::Datastore(name) => process(
                    vec![addrs[Part::Storage]],
                    SupMsg::DatastoreFailed {
                        datastore: name.clone(),
                    },
                    SupMsg::DatastoreRepaired {
                        datastore: name.clone(),
                    },
                ),
            }
        }
        // By time, then file order (restarts of an early fault may follow
        // a later fault's start).
        timeline.sort_by_key(|(at, i, _)| (*at, *i));
        SupervisorFaults {
            timeline: timeline
                .into_iter()
                .map(|(_, _, input)| input)
                .collect::<Vec<_>>()
                .into_iter(),
        }
    }

    /// The names of the actors these faults crash (they keep journals).
    pub fn crashed_names(faults: &[SupervisorFault], host_names: &[String]) -> Vec<String> {
        let mut names = Vec::new();
        for f in faults {
            match &f.kind {
                SupervisorFaultKind::SphereletCrash(h) => {
                    names.push(format!("spherelet/{}", host_names[h.0 as usize]))
                }
                SupervisorFaultKind::ControlPlaneCrash(parts) => {
                    names.extend(parts.iter().map(|p| format!("supervisor/{p}")))
                }
                _ => {}
            }
        }
        names
    }
}

impl Source for SupervisorFaults {
    fn next(&mut self, _ids: &mut VmIdAlloc) -> Option<Input> {
        self.timeline.next()
    }
}
