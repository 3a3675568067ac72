//! A machine's life: boot, kubeadm init / join, Ready (the guest is
//! told), and MachineHealthCheck's verdict on a NotReady or late machine.

use super::machine::{Machine, MachineEvent, MachinePhase};
use super::rollout::Stage;
use super::{Capi, TimerKind, health};
use crate::actor::{Context, Note};
use crate::api::msg::SupMsg;
use crate::api::notes::SupNote;
use crate::api::objects::ObjectKey;
use crate::model::{SimDuration, SimTime};

impl Capi {
    // ---- a machine's bootstrap

    pub(super) fn set_phase<C: Context>(
        &mut self,
        tkc: &ObjectKey,
        name: &str,
        phase: MachinePhase,
        ctx: &mut C,
    ) {
        let now = ctx.now();
        let c = self.clusters.get_mut(tkc).expect("known cluster");
        let m = c.machines.get_mut(name).expect("known machine");
        m.phase = phase;
        m.epoch += 1;
        if phase == MachinePhase::Ready {
            m.joined = true;
            m.unhealthy_since = None;
            c.history.push((now, MachineEvent::Ready(name.to_string())));
        }
    }

    pub(super) fn booted<C: Context>(&mut self, tkc: &ObjectKey, name: &str, ctx: &mut C) {
        let c = &self.clusters[tkc];
        let m = &c.machines[name];
        if m.joined {
            // A reboot: the kubelet comes back, no kubeadm.
            return self.node_ready(tkc, name, ctx);
        }
        if m.control_plane && !c.initialized && c.initializing.is_none() {
            self.clusters.get_mut(tkc).expect("known").initializing = Some(name.to_string());
            self.bootstrap(tkc, name, true, ctx);
        } else if c.initialized {
            self.bootstrap(tkc, name, false, ctx);
        } else {
            self.set_phase(tkc, name, MachinePhase::WaitingForControlPlane, ctx);
        }
    }

    pub(super) fn bootstrap<C: Context>(
        &mut self,
        tkc: &ObjectKey,
        name: &str,
        init: bool,
        ctx: &mut C,
    ) {
        self.set_phase(tkc, name, MachinePhase::Bootstrapping, ctx);
        let dist = if init {
            &self.config.kubeadm_init
        } else {
            &self.config.kubeadm_join
        };
        let took = ctx.sample(dist);
        self.arm(tkc, name, TimerKind::Bootstrapped, SimDuration(took), ctx);
    }

    pub(super) fn bootstrapped<C: Context>(&mut self, tkc: &ObjectKey, name: &str, ctx: &mut C) {
        let c = self.clusters.get_mut(tkc).expect("known cluster");
        if c.initializing.as_deref() == Some(name) {
            c.initializing = None;
            c.initialized = true;
        }
        self.node_ready(tkc, name, ctx);
        self.start_waiting(tkc, ctx);
    }

    /// Machines waiting for the control plane join (or, if its initializer
    /// was lost, a control-plane machine takes over `kubeadm init`).
    pub(super) fn start_waiting<C: Context>(&mut self, tkc: &ObjectKey, ctx: &mut C) {
        let c = &self.clusters[tkc];
        let waiting: Vec<(String, bool)> = c
            .machines
            .iter()
            .filter(|(_, m)| m.phase == MachinePhase::WaitingForControlPlane)
            .map(|(n, m)| (n.clone(), m.control_plane))
            .collect();
        for (name, cp) in waiting {
            let c = &self.clusters[tkc];
            if c.initialized {
                self.bootstrap(tkc, &name, false, ctx);
            } else if cp && c.initializing.is_none() {
                self.clusters.get_mut(tkc).expect("known").initializing = Some(name.clone());
                self.bootstrap(tkc, &name, true, ctx);
            }
        }
    }

    pub(super) fn node_ready<C: Context>(&mut self, tkc: &ObjectKey, name: &str, ctx: &mut C) {
        self.set_phase(tkc, name, MachinePhase::Ready, ctx);
        let guest = self.guest(tkc);
        let m = self.machine_mut(tkc, name).expect("known machine");
        m.node_up = true;
        let (pool, control_plane, class) =
            (m.pool.clone(), m.control_plane, m.template.vm_class.clone());
        if let Some(g) = guest {
            let msg = SupMsg::GuestNodeUp {
                node: name.to_string(),
                pool,
                control_plane,
                capacity: self.classes.get(&class).copied().unwrap_or_default(),
            };
            ctx.send(g, SimDuration::ZERO, msg.event());
        }
    }

    // ---- MachineHealthCheck

    pub(super) fn health_check<C: Context>(
        &mut self,
        tkc: &ObjectKey,
        name: &str,
        kind: TimerKind,
        tag: u64,
        ctx: &mut C,
    ) {
        let now = ctx.now();
        let c = &self.clusters[tkc];
        let m = &c.machines[name];
        let still = match kind {
            TimerKind::Unhealthy => m.unhealthy_since == Some(SimTime(tag)) && !m.ready(),
            _ => !m.joined && m.created == SimTime(tag),
        };
        if !still {
            return;
        }
        let startup = self.config.node_startup_timeout;
        let active: Vec<&Machine> = c
            .machines
            .values()
            .filter(|m| m.stage == Stage::Active)
            .collect();
        let unhealthy = active
            .iter()
            .filter(|m| {
                (m.unhealthy_since.is_some() && !m.ready())
                    || (!m.joined && now.since(m.created) >= startup)
            })
            .count();
        if health::may_remediate(unhealthy, active.len(), self.config.max_unhealthy_percent) {
            let c = self.clusters.get_mut(tkc).expect("known cluster");
            c.remediations += 1;
            c.history
                .push((now, MachineEvent::Remediated(name.to_string())));
            ctx.note(Note::Sup(SupNote::GuestRemediated));
            self.delete_machine(tkc, name, ctx);
        } else {
            // Too many unhealthy: look again later.
            let again = self.config.unhealthy_timeout;
            self.arm_tagged(tkc, name, kind, again, tag, ctx);
        }
    }
}
