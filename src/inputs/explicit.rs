//! VMs written out one by one in the scenario, with creation and optional
//! deletion times. Ordered by time, deletions before creations at equal
//! times, then file order.

use super::{Input, Source, VmIdAlloc};
use crate::event::Event;
use crate::model::{ActorId, SimTime, VmId};
use crate::scenario::ExplicitVm;

enum Step {
    Create(usize),
    Delete(usize),
}

pub struct ExplicitVms {
    vms: Vec<ExplicitVm>,
    ids: Vec<Option<VmId>>,
    timeline: Vec<(SimTime, Step)>,
    cursor: usize,
    placement: ActorId,
}

impl ExplicitVms {
    pub fn new(vms: Vec<ExplicitVm>, placement: ActorId) -> Self {
        let mut timeline: Vec<(SimTime, u8, usize, Step)> = Vec::new();
        for (i, vm) in vms.iter().enumerate() {
            timeline.push((vm.at, 1, i, Step::Create(i)));
            if let Some(d) = vm.delete_at {
                timeline.push((d, 0, i, Step::Delete(i)));
            }
        }
        timeline.sort_by_key(|(at, order, i, _)| (*at, *order, *i));
        ExplicitVms {
            ids: vec![None; vms.len()],
            vms,
            timeline: timeline.into_iter().map(|(at, _, _, s)| (at, s)).collect(),
            cursor: 0,
            placement,
        }
    }

    /// The scenario name of a VM this source created.
    pub fn name_of(&self, vm: VmId) -> Option<&str> {
        self.ids
            .iter()
            .position(|&id| id == Some(vm))
            .map(|i| self.vms[i].name.as_str())
    }
}

impl Source for ExplicitVms {
    fn next(&mut self, ids: &mut VmIdAlloc) -> Option<Input> {
        let (at, step) = self.timeline.get(self.cursor)?;
        self.cursor += 1;
        let event = match *step {
            Step::Create(i) => {
                let vm = ids.alloc();
                self.ids[i] = Some(vm);
                let size = self.vms[i].size;
                match self.vms[i].restart_priority {
                    None => Event::VmRequested { vm, size },
                    Some(p) => Event::VmRequestedWithPriority {
                        vm,
                        size,
                        priority: p as u8,
                    },
                }
            }
            Step::Delete(i) => Event::VmDeleteRequested {
                vm: self.ids[i].expect("created before deleted"),
            },
        };
        Some(Input {
            at: *at,
            to: self.placement,
            event,
        })
    }
}
