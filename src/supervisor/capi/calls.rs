//! Cluster API's calls on the Supervisor's API server (VM creates and
//! deletes, the endpoint Service, TKC status) and what their replies mean.

use super::expand::machine_vm;
use super::machine::Machine;
use super::rollout::Stage;
use super::{Call, Capi, TimerKind};
use crate::actor::Context;
use crate::api::addrs::Part;
use crate::api::msg::{ApiError, CallId, SupMsg, SystemOp};
use crate::api::objects::{Kind, ObjectKey};
use crate::model::SimDuration;
use crate::supervisor::vm_operator::backoff;

impl Capi {
    // ---- API calls

    pub(super) fn call<C: Context>(&mut self, call: Call, op: SystemOp, ctx: &mut C) -> CallId {
        let id = self.next_call;
        self.next_call += 1;
        self.calls.insert(id, call);
        let msg = SupMsg::System { id, op };
        ctx.send(self.addrs[Part::ApiServer], SimDuration::ZERO, msg.event());
        id
    }

    pub(super) fn create_vm<C: Context>(&mut self, tkc: &ObjectKey, name: &str, ctx: &mut C) {
        let Some(c) = self.clusters.get(tkc) else {
            return;
        };
        let Some(m) = c.machines.get(name) else {
            return;
        };
        if m.stage == Stage::Deleting {
            return;
        }
        let exp = c.expansion(&tkc.name);
        let Some(pool) = exp.pool(&m.pool) else {
            return;
        };
        let mut pool = pool.clone();
        // The machine keeps the template it was created with.
        pool.template = m.template.clone();
        let vm = machine_vm(&tkc.namespace, &tkc.name, &pool, name);
        let call = Call::CreateVm {
            cluster: tkc.clone(),
            machine: name.to_string(),
        };
        let id = self.call(call, SystemOp::Create(Box::new(vm)), ctx);
        self.machine_mut(tkc, name).expect("known").creating = Some(id);
    }

    pub(super) fn delete_vm<C: Context>(&mut self, tkc: &ObjectKey, name: &str, ctx: &mut C) {
        let key = ObjectKey::new(Kind::VirtualMachine, &tkc.namespace, name);
        let call = Call::DeleteVm {
            cluster: tkc.clone(),
            machine: name.to_string(),
        };
        let id = self.call(call, SystemOp::Delete(key), ctx);
        if let Some(m) = self.machine_mut(tkc, name) {
            m.deleting = Some(id);
        }
    }

    pub(super) fn replied<C: Context>(
        &mut self,
        id: CallId,
        result: Result<u64, ApiError>,
        ctx: &mut C,
    ) {
        let Some(call) = self.calls.remove(&id) else {
            return;
        };
        let failed = match &result {
            Ok(_) | Err(ApiError::AlreadyExists(_)) => None,
            Err(e) => Some(e),
        };
        match call {
            Call::CreateVm { cluster, machine } => {
                let Some(m) = self.machine_mut(&cluster, &machine) else {
                    return;
                };
                if m.creating != Some(id) {
                    return;
                }
                m.creating = None;
                m.refused = failed.cloned();
                if failed.is_some() {
                    m.create_failures += 1;
                    let delay = backoff(m.create_failures);
                    if m.stage == Stage::Deleting && !m.vm_exists {
                        self.vm_gone(&cluster, &machine, ctx);
                    } else {
                        self.arm(&cluster, &machine, TimerKind::RetryCreate, delay, ctx);
                    }
                }
                self.reconcile(&cluster, ctx);
            }
            Call::DeleteVm { cluster, machine } => {
                let forgets = self.forgets_refused_deletes;
                let Some(m) = self.machine_mut(&cluster, &machine) else {
                    return;
                };
                let current = m.deleting == Some(id);
                if current {
                    m.deleting = None;
                }
                match failed {
                    // Not there (and not coming): the machine is gone.
                    Some(ApiError::NotFound(_)) if m.creating.is_none() => {
                        self.vm_gone(&cluster, &machine, ctx);
                        self.reconcile(&cluster, ctx);
                    }
                    Some(ApiError::NotFound(_)) | None => {}
                    // Refused (the API unavailable): asked again after a
                    // backoff; a VM change before then asks at once.
                    Some(_) if current && !forgets => {
                        m.delete_failures += 1;
                        let delay = backoff(m.delete_failures);
                        self.arm(&cluster, &machine, TimerKind::RetryDelete, delay, ctx);
                    }
                    Some(_) => {}
                }
            }
            Call::CreateService { cluster } => {
                if failed.is_some() && self.clusters.contains_key(&cluster) {
                    self.arm(&cluster, "", TimerKind::RetryService, backoff(1), ctx);
                }
            }
            Call::Status { cluster } => {
                if failed.is_some()
                    && let Some(c) = self.clusters.get_mut(&cluster)
                {
                    c.status_sent = None;
                }
            }
            Call::DeleteTkc => {}
        }
    }

    pub(super) fn machine_mut(&mut self, tkc: &ObjectKey, name: &str) -> Option<&mut Machine> {
        self.clusters.get_mut(tkc)?.machines.get_mut(name)
    }
}
