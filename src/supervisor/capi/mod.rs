//! The Cluster API controllers (`supervisor/capi`): each
//! TanzuKubernetesCluster is expanded ([`expand`]) into a Cluster, a
//! KubeadmControlPlane and one MachineDeployment per node pool, kept as
//! this actor's state together with their Machines ([`machine`]); the
//! Supervisor's store only sees what Cluster API creates there: one
//! VirtualMachine per Machine (through the API server, so it is
//! quota-checked, gets an NSX address and is placed by the VM Operator like
//! any VM) and the endpoint's LoadBalancer Service.
//!
//! A machine's timeline: VM created and running -> `vm_boot` -> `kubeadm
//! init` (the first control-plane machine) or `kubeadm join` (the others,
//! once the control plane is initialized) -> its node is Ready and the
//! guest cluster is told (`GuestNodeUp`). What to create or drain next is
//! [`rollout::plan`]; MachineHealthCheck ([`health`]) replaces machines
//! NotReady past `unhealthy_timeout` or never Ready within
//! `node_startup_timeout`. Its timers are `SupMsg::CapiTimer`s with an id into
//! its own table (with due times, so that a rebuilt actor re-arms them).
//!
//! Here: watches, timers, scaling, drains, deletion and reconciliation;
//! `lifecycle`: a machine's bootstrap and health checks; `calls`: API
//! calls and their replies.

mod calls;
pub mod expand;
pub mod health;
mod lifecycle;
pub mod machine;
pub mod rollout;

use crate::actor::{Actor, Context, Note};
use crate::api::addrs::Addrs;
use crate::api::msg::{CallId, CapiTimer, SupMsg, SystemOp};
use crate::api::notes::SupNote;
use crate::api::objects::{Body, Kind, Object, ObjectKey, PowerState, VirtualMachine, VmPhase};
use crate::event::Event;
use crate::model::{ActorId, Resources, SimDuration, SimTime};
use crate::scenario::{GuestClustersConfig, SupervisorConfig};
use expand::{CLUSTER_LABEL, endpoint_service, endpoint_service_name, machine_name};
use machine::{Cluster, Machine, MachineEvent, MachinePhase};
use rollout::{Action, Stage};
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TimerKind {
    /// The guest OS is up.
    Booted,
    /// kubeadm init / join finished.
    Bootstrapped,
    /// MachineHealthCheck: NotReady since `tag` ns.
    Unhealthy,
    /// MachineHealthCheck: no node `node_startup_timeout` after creation
    /// (`tag`: the creation time, ns).
    Startup,
    /// Create the machine's VM again after a refusal.
    RetryCreate,
    /// Delete the machine's VM again after a refusal.
    RetryDelete,
    /// Create the endpoint Service again after a refusal.
    RetryService,
}

#[derive(Clone, Debug)]
struct Timer {
    due: SimTime,
    cluster: ObjectKey,
    machine: String,
    kind: TimerKind,
    /// The machine's epoch (or the time `kind` says).
    tag: u64,
}

#[derive(Clone, Debug)]
enum Call {
    CreateVm { cluster: ObjectKey, machine: String },
    DeleteVm { cluster: ObjectKey, machine: String },
    CreateService { cluster: ObjectKey },
    Status { cluster: ObjectKey },
    DeleteTkc,
}

#[derive(Clone, Debug)]
pub struct Capi {
    addrs: Addrs,
    config: GuestClustersConfig,
    /// VirtualMachineClass name -> hardware (a node's capacity).
    classes: BTreeMap<String, Resources>,
    /// By TKC key.
    clusters: BTreeMap<ObjectKey, Cluster>,
    timers: BTreeMap<u64, Timer>,
    next_timer: u64,
    calls: BTreeMap<CallId, Call>,
    next_call: CallId,
    /// Planted bug (`debug.capi_forgets_refused_deletes`).
    forgets_refused_deletes: bool,
}

impl Capi {
    pub fn new(config: &SupervisorConfig, addrs: Addrs) -> Self {
        Capi {
            addrs,
            config: config.guest_clusters.clone(),
            classes: BTreeMap::new(),
            clusters: BTreeMap::new(),
            timers: BTreeMap::new(),
            next_timer: 0,
            calls: BTreeMap::new(),
            next_call: 0,
            forgets_refused_deletes: false,
        }
    }

    /// Plants the "forgets refused deletes" bug (tests of the checker).
    pub fn forget_refused_deletes(&mut self, forget: bool) {
        self.forgets_refused_deletes = forget;
    }

    /// The clusters, by TKC key (summary, tests).
    pub fn clusters(&self) -> &BTreeMap<ObjectKey, Cluster> {
        &self.clusters
    }

    pub fn cluster(&self, tkc: &ObjectKey) -> Option<&Cluster> {
        self.clusters.get(tkc)
    }

    /// The guest cluster actor of a TKC: the scenario's, or the one made
    /// when it was created through the API (None until that one says
    /// hello: then nothing is sent and drains complete at once).
    pub fn guest(&self, tkc: &ObjectKey) -> Option<ActorId> {
        (self.addrs.guests.get(tkc).copied()).or_else(|| self.clusters.get(tkc)?.guest)
    }

    /// Asks the kernel for the guest cluster actor of a TKC that has none.
    fn spawn_guest<C: Context>(&self, tkc: &ObjectKey, ctx: &mut C) {
        let Some(cluster) = self.clusters.get(tkc) else {
            return;
        };
        if self.guest(tkc).is_some() {
            return;
        }
        let msg = SupMsg::SpawnGuest {
            tkc: tkc.clone(),
            spec: cluster.spec.clone(),
            classes: self.classes.clone(),
        };
        ctx.send(ActorId::KERNEL, SimDuration::ZERO, msg.event());
    }

    /// A user's call on a guest cluster's API, authorized by the proxy:
    /// to the guest, or refused when the TKC has none.
    fn guest_call<C: Context>(&self, msg: SupMsg, ctx: &mut C) {
        let SupMsg::GuestAuthorized {
            id, caller, tkc, ..
        } = &msg
        else {
            return;
        };
        match self.guest(tkc) {
            Some(guest) => ctx.send(guest, SimDuration::ZERO, msg.event()),
            None => {
                let result = Err(crate::api::msg::ApiError::NotFound(format!(
                    "tanzukubernetesclusters {}/{} has no guest cluster",
                    tkc.namespace, tkc.name
                )));
                let reply = SupMsg::Reply { id: *id, result };
                ctx.send(*caller, SimDuration::ZERO, reply.event());
            }
        }
    }

    /// The TKC whose guest cluster actor is `actor`.
    fn cluster_of_guest(&self, actor: ActorId) -> Option<ObjectKey> {
        self.clusters
            .keys()
            .find(|k| self.guest(k) == Some(actor))
            .cloned()
    }

    fn handle_msg<C: Context>(&mut self, msg: SupMsg, ctx: &mut C) {
        match msg {
            SupMsg::Changed {
                object, deleted, ..
            } => self.changed(std::sync::Arc::unwrap_or_clone(object), deleted, ctx),
            SupMsg::Reply { id, result } => self.replied(id, result, ctx),
            SupMsg::CapiTimer(CapiTimer::Due { id }) => self.timer_fired(id, ctx),
            SupMsg::GuestNodeDrained { node, disrupted } => {
                if let Some(key) = self.cluster_of_guest(ctx.sender()) {
                    self.drained(&key, &node, disrupted, ctx);
                    self.reconcile(&key, ctx);
                }
            }
            SupMsg::GuestScalePool { pool, replicas } => {
                if let Some(key) = self.cluster_of_guest(ctx.sender()) {
                    self.scale_pool(&key, pool, replicas, ctx);
                }
            }
            SupMsg::GuestSpawned { tkc } => match self.clusters.get_mut(&tkc) {
                Some(c) if c.guest.is_none() => c.guest = Some(ctx.sender()),
                // Asked twice (a restart in between), or deleted since:
                // this one stays empty.
                _ => {}
            },
            msg @ SupMsg::GuestAuthorized { .. } => self.guest_call(msg, ctx),
            // Its own restart: `Start`, after the relist, resends what may
            // have lost its answer.
            SupMsg::Restart => {}
            other => ctx.note(Note::Unexpected {
                actor: "capi",
                kind: other.kind(),
            }),
        }
    }

    /// At time 0 nothing is armed; after a crash the timers and replies of
    /// before were lost: timers are re-armed for what is left of them,
    /// creates whose reply was lost are sent again (AlreadyExists is
    /// success), and every status is rewritten.
    fn started<C: Context>(&mut self, ctx: &mut C) {
        let now = ctx.now();
        for (id, t) in &self.timers {
            let delay = if t.due > now {
                t.due.since(now)
            } else {
                SimDuration::ZERO
            };
            ctx.send(
                ctx.me(),
                delay,
                SupMsg::CapiTimer(CapiTimer::Due { id: *id }).event(),
            );
        }
        let lost = std::mem::take(&mut self.calls);
        for call in lost.into_values() {
            match call {
                Call::CreateVm { cluster, machine } => {
                    if let Some(m) = self.machine_mut(&cluster, &machine) {
                        m.creating = None;
                    }
                    self.create_vm(&cluster, &machine, ctx);
                }
                Call::DeleteVm { cluster, machine } => {
                    if let Some(m) = self.machine_mut(&cluster, &machine) {
                        m.deleting = None;
                    }
                    self.delete_vm(&cluster, &machine, ctx);
                }
                Call::CreateService { cluster } => {
                    if let Some(c) = self.clusters.get_mut(&cluster) {
                        c.service = false;
                    }
                }
                Call::Status { .. } | Call::DeleteTkc => {}
            }
        }
        let keys: Vec<ObjectKey> = self.clusters.keys().cloned().collect();
        for key in keys {
            self.clusters.get_mut(&key).expect("listed").status_sent = None;
            // A hello lost while down: ask again (the first stays empty).
            self.spawn_guest(&key, ctx);
            self.reconcile(&key, ctx);
        }
    }

    // ---- watches

    fn changed<C: Context>(&mut self, object: Object, deleted: bool, ctx: &mut C) {
        let key = object.key();
        match object.body {
            Body::VirtualMachineClass(c) => {
                if deleted {
                    self.classes.remove(&key.name);
                } else {
                    self.classes.insert(key.name, c.hardware);
                }
            }
            Body::TanzuKubernetesCluster(spec) => {
                let new = !self.clusters.contains_key(&key);
                let cluster = self
                    .clusters
                    .entry(key.clone())
                    .or_insert_with(|| Cluster::new(spec.clone(), object.meta.creation));
                if deleted {
                    if cluster.machines.is_empty() {
                        self.clusters.remove(&key);
                        return;
                    }
                    cluster.deleting = true;
                } else {
                    // A user's new replicas win over the autoscaler's.
                    let old: Vec<(String, u32)> = pools(&cluster.spec);
                    for (pool, replicas) in pools(&spec) {
                        let before = old.iter().find(|(p, _)| *p == pool).map(|(_, r)| *r);
                        if before == Some(replicas) {
                            continue;
                        }
                        cluster.scaled.remove(&pool);
                        if let Some(before) = before {
                            cluster.scale_actions += 1;
                            let up = replicas > before;
                            ctx.note(Note::Sup(SupNote::GuestScaled { up }));
                        }
                    }
                    cluster.deleting |= spec.phase == crate::api::objects::ClusterPhase::Deleting;
                    cluster.spec = spec;
                    if new {
                        self.spawn_guest(&key, ctx);
                    }
                }
                self.reconcile(&key, ctx);
            }
            Body::Service(s) => {
                let Some(cluster) = object.meta.labels.get(CLUSTER_LABEL) else {
                    return;
                };
                let tkc = ObjectKey::new(Kind::TanzuKubernetesCluster, &key.namespace, cluster);
                if let Some(c) = self.clusters.get_mut(&tkc)
                    && key.name == endpoint_service_name(cluster)
                {
                    c.endpoint = if deleted { None } else { s.vip };
                    self.reconcile(&tkc, ctx);
                }
            }
            Body::VirtualMachine(vm) => {
                let Some(cluster) = object.meta.labels.get(CLUSTER_LABEL) else {
                    return;
                };
                let tkc = ObjectKey::new(Kind::TanzuKubernetesCluster, &key.namespace, cluster);
                if self.machine_mut(&tkc, &key.name).is_none() {
                    return;
                }
                if deleted {
                    self.vm_gone(&tkc, &key.name, ctx);
                } else {
                    self.vm_changed(&tkc, &key.name, &vm, ctx);
                }
                self.reconcile(&tkc, ctx);
            }
            _ => {}
        }
    }

    fn vm_changed<C: Context>(
        &mut self,
        tkc: &ObjectKey,
        name: &str,
        vm: &VirtualMachine,
        ctx: &mut C,
    ) {
        let up = vm.phase == VmPhase::Created
            && vm.host.is_some()
            && vm.actual_power == PowerState::PoweredOn;
        let now = ctx.now();
        let guest = self.guest(tkc);
        let c = self.clusters.get_mut(tkc).expect("checked by caller");
        let m = c.machines.get_mut(name).expect("checked by caller");
        m.vm_exists = true;
        if m.stage == Stage::Deleting {
            // Created after its delete was refused (create still in flight).
            if m.deleting.is_none() {
                self.delete_vm(tkc, name, ctx);
            }
            return;
        }
        use MachinePhase::*;
        match (m.phase, up) {
            (Provisioning, true) | (NotReady, true) => {
                // A NotReady machine whose VM HA restarted reboots.
                self.set_phase(tkc, name, Booting, ctx);
                let boot = ctx.sample(&self.config.vm_boot);
                self.arm(tkc, name, TimerKind::Booted, SimDuration(boot), ctx);
            }
            (Booting | WaitingForControlPlane | Bootstrapping, false) => {
                if c.initializing.as_deref() == Some(name) {
                    c.initializing = None;
                }
                let phase = if m.joined { NotReady } else { Provisioning };
                self.set_phase(tkc, name, phase, ctx);
            }
            (Ready, false) => {
                m.unhealthy_since = Some(now);
                if m.node_up
                    && let Some(g) = guest
                {
                    let msg = SupMsg::GuestNodeDown {
                        node: name.to_string(),
                    };
                    ctx.send(g, SimDuration::ZERO, msg.event());
                }
                self.set_phase(tkc, name, NotReady, ctx);
                let timeout = self.config.unhealthy_timeout;
                self.arm_tagged(tkc, name, TimerKind::Unhealthy, timeout, now.0, ctx);
            }
            _ => {}
        }
    }

    /// The machine's VM is gone from the store: so is the machine.
    fn vm_gone<C: Context>(&mut self, tkc: &ObjectKey, name: &str, ctx: &mut C) {
        let guest = self.guest(tkc);
        let c = self.clusters.get_mut(tkc).expect("checked by caller");
        let Some(m) = c.machines.remove(name) else {
            return;
        };
        if c.initializing.as_deref() == Some(name) {
            c.initializing = None;
        }
        c.history
            .push((ctx.now(), MachineEvent::Deleted(name.to_string())));
        if m.node_up
            && let Some(g) = guest
        {
            let msg = SupMsg::GuestNodeGone {
                node: name.to_string(),
            };
            ctx.send(g, SimDuration::ZERO, msg.event());
        }
    }

    // ---- timers

    fn arm<C: Context>(
        &mut self,
        tkc: &ObjectKey,
        machine: &str,
        kind: TimerKind,
        delay: SimDuration,
        ctx: &mut C,
    ) {
        let epoch = self
            .clusters
            .get(tkc)
            .and_then(|c| c.machines.get(machine))
            .map_or(0, |m| m.epoch);
        self.arm_tagged(tkc, machine, kind, delay, epoch, ctx);
    }

    fn arm_tagged<C: Context>(
        &mut self,
        tkc: &ObjectKey,
        machine: &str,
        kind: TimerKind,
        delay: SimDuration,
        tag: u64,
        ctx: &mut C,
    ) {
        let id = self.next_timer;
        self.next_timer += 1;
        let timer = Timer {
            due: ctx.now() + delay,
            cluster: tkc.clone(),
            machine: machine.to_string(),
            kind,
            tag,
        };
        self.timers.insert(id, timer);
        ctx.send(
            ctx.me(),
            delay,
            SupMsg::CapiTimer(CapiTimer::Due { id }).event(),
        );
    }

    fn timer_fired<C: Context>(&mut self, id: u64, ctx: &mut C) {
        let Some(t) = self.timers.remove(&id) else {
            return;
        };
        if t.kind == TimerKind::RetryService {
            if let Some(c) = self.clusters.get_mut(&t.cluster) {
                c.service = false;
            }
            return self.reconcile(&t.cluster, ctx);
        }
        let Some(m) = self.machine_mut(&t.cluster, &t.machine) else {
            return;
        };
        let (epoch, stage) = (m.epoch, m.stage);
        let (tkc, name) = (&t.cluster, t.machine.as_str());
        match t.kind {
            TimerKind::Booted if epoch == t.tag => self.booted(tkc, name, ctx),
            TimerKind::Bootstrapped if epoch == t.tag => self.bootstrapped(tkc, name, ctx),
            TimerKind::Unhealthy | TimerKind::Startup if stage == Stage::Active => {
                self.health_check(tkc, name, t.kind, t.tag, ctx)
            }
            TimerKind::RetryCreate if m.creating.is_none() && !m.vm_exists => {
                self.create_vm(tkc, name, ctx)
            }
            TimerKind::RetryDelete if stage == Stage::Deleting && m.deleting.is_none() => {
                self.delete_vm(tkc, name, ctx)
            }
            _ => {}
        }
        self.reconcile(&t.cluster, ctx);
    }

    // ---- scaling, drains, deletion

    fn scale_pool<C: Context>(
        &mut self,
        tkc: &ObjectKey,
        pool: String,
        replicas: u32,
        ctx: &mut C,
    ) {
        let Some(c) = self.clusters.get_mut(tkc) else {
            return;
        };
        let Some(spec) = c.expansion(&tkc.name).pool(&pool).cloned() else {
            return;
        };
        let Some((min, max)) = spec.autoscale else {
            return;
        };
        let replicas = replicas.clamp(min, max);
        if replicas != spec.replicas {
            c.scaled.insert(pool, replicas);
            c.scale_actions += 1;
            let up = replicas > spec.replicas;
            ctx.note(Note::Sup(SupNote::GuestScaled { up }));
        }
        self.reconcile(tkc, ctx);
    }

    fn start_drain<C: Context>(&mut self, tkc: &ObjectKey, name: &str, ctx: &mut C) {
        let guest = self.guest(tkc);
        let Some(m) = self.machine_mut(tkc, name) else {
            return;
        };
        if m.stage != Stage::Active {
            return;
        }
        m.stage = Stage::Draining;
        match guest {
            Some(g) if m.node_up => {
                let msg = SupMsg::GuestDrain {
                    node: name.to_string(),
                };
                ctx.send(g, SimDuration::ZERO, msg.event());
            }
            // No node to drain.
            _ => self.drained(tkc, name, 0, ctx),
        }
    }

    fn drained<C: Context>(&mut self, tkc: &ObjectKey, name: &str, disrupted: u32, ctx: &mut C) {
        let now = ctx.now();
        let Some(c) = self.clusters.get_mut(tkc) else {
            return;
        };
        if c.machines.get(name).map(|m| m.stage) != Some(Stage::Draining) {
            return;
        }
        c.disrupted_pods += disrupted;
        c.history
            .push((now, MachineEvent::Drained(name.to_string(), disrupted)));
        self.delete_machine(tkc, name, ctx);
    }

    /// Deletes the machine's VM; the guest forgets the node at once.
    fn delete_machine<C: Context>(&mut self, tkc: &ObjectKey, name: &str, ctx: &mut C) {
        let guest = self.guest(tkc);
        let c = self.clusters.get_mut(tkc).expect("known cluster");
        if c.initializing.as_deref() == Some(name) {
            c.initializing = None;
        }
        let m = c.machines.get_mut(name).expect("known machine");
        m.stage = Stage::Deleting;
        m.epoch += 1;
        if m.node_up {
            m.node_up = false;
            if let Some(g) = guest {
                let msg = SupMsg::GuestNodeGone {
                    node: name.to_string(),
                };
                ctx.send(g, SimDuration::ZERO, msg.event());
            }
        }
        if !m.vm_exists && m.creating.is_none() {
            c.machines.remove(name);
            c.history
                .push((ctx.now(), MachineEvent::Deleted(name.to_string())));
            return;
        }
        self.delete_vm(tkc, name, ctx);
    }

    // ---- reconciliation

    /// Brings `tkc`'s machines towards its spec and writes its status.
    fn reconcile<C: Context>(&mut self, tkc: &ObjectKey, ctx: &mut C) {
        let Some(c) = self.clusters.get(tkc) else {
            return;
        };
        if c.deleting {
            return self.reconcile_deletion(tkc, ctx);
        }
        if !c.service {
            self.clusters.get_mut(tkc).expect("known").service = true;
            let svc = endpoint_service(&tkc.namespace, &tkc.name);
            let call = Call::CreateService {
                cluster: tkc.clone(),
            };
            self.call(call, SystemOp::Create(Box::new(svc)), ctx);
        }
        // Each action changes what the plan sees; a few rounds settle it.
        for _ in 0..64 {
            let c = &self.clusters[tkc];
            let exp = c.expansion(&tkc.name);
            let actions = rollout::plan(&exp, &c.views());
            if actions.is_empty() {
                break;
            }
            for action in actions {
                match action {
                    Action::Create { pool } => self.new_machine(tkc, &pool, ctx),
                    Action::Drain { machine } => self.start_drain(tkc, &machine, ctx),
                }
            }
        }
        self.track_progress(tkc, ctx);
        self.write_status(tkc, ctx);
    }

    fn new_machine<C: Context>(&mut self, tkc: &ObjectKey, pool: &str, ctx: &mut C) {
        let now = ctx.now();
        let c = self.clusters.get_mut(tkc).expect("known cluster");
        let exp = c.expansion(&tkc.name);
        let spec = exp.pool(pool).expect("planned pools exist");
        let index = c.next_index.entry(pool.to_string()).or_default();
        let name = machine_name(&tkc.name, pool, *index);
        let machine = Machine {
            pool: pool.to_string(),
            control_plane: spec.control_plane,
            index: *index,
            template: spec.template.clone(),
            created: now,
            phase: MachinePhase::Provisioning,
            stage: Stage::Active,
            epoch: 0,
            vm_exists: false,
            creating: None,
            create_failures: 0,
            refused: None,
            delete_failures: 0,
            deleting: None,
            node_up: false,
            joined: false,
            unhealthy_since: None,
        };
        *index += 1;
        c.machines.insert(name.clone(), machine);
        c.history.push((now, MachineEvent::Created(name.clone())));
        let startup = self.config.node_startup_timeout;
        self.arm_tagged(tkc, &name, TimerKind::Startup, startup, now.0, ctx);
        self.create_vm(tkc, &name, ctx);
    }

    /// Provisioned (first time all desired nodes are Ready) and upgrade
    /// start / end.
    fn track_progress<C: Context>(&mut self, tkc: &ObjectKey, ctx: &mut C) {
        let now = ctx.now();
        let c = self.clusters.get_mut(tkc).expect("known cluster");
        let exp = c.expansion(&tkc.name);
        let views = c.views();
        let rolling = rollout::rolling_pool(&exp, &views).is_some();
        let settled = !rolling
            && views.iter().all(|m| m.stage == Stage::Active && m.ready)
            && c.ready_nodes() == exp.desired_nodes();
        if rolling && c.upgrade_started.is_none() {
            c.upgrade_started = Some(now);
        }
        if settled {
            if c.provisioned.is_none() {
                c.provisioned = Some(now);
                let after = now.since(c.created);
                ctx.note(Note::Sup(SupNote::GuestProvisioned { after }));
            }
            if let Some(since) = c.upgrade_started.take() {
                let took = now.since(since);
                c.upgrades.push(took);
                ctx.note(Note::Sup(SupNote::GuestUpgraded { took }));
            }
        }
    }

    fn write_status<C: Context>(&mut self, tkc: &ObjectKey, ctx: &mut C) {
        let c = self.clusters.get_mut(tkc).expect("known cluster");
        let status = (c.phase(), c.endpoint.clone(), c.ready_nodes());
        if c.status_sent.as_ref() == Some(&status) {
            return;
        }
        c.status_sent = Some(status.clone());
        let (phase, endpoint, nodes_ready) = status;
        let op = SystemOp::TkcStatus {
            tkc: tkc.clone(),
            phase,
            endpoint,
            nodes_ready,
        };
        let call = Call::Status {
            cluster: tkc.clone(),
        };
        self.call(call, op, ctx);
    }

    /// Deleting: every machine's VM and the endpoint go; once the VMs are
    /// gone the TKC is deleted for good.
    fn reconcile_deletion<C: Context>(&mut self, tkc: &ObjectKey, ctx: &mut C) {
        let c = &self.clusters[tkc];
        let live: Vec<String> = c
            .machines
            .iter()
            .filter(|(_, m)| m.stage != Stage::Deleting)
            .map(|(n, _)| n.clone())
            .collect();
        for name in live {
            self.delete_machine(tkc, &name, ctx);
        }
        let c = self.clusters.get_mut(tkc).expect("known cluster");
        if c.service {
            c.service = false;
            let key = ObjectKey::new(
                Kind::Service,
                &tkc.namespace,
                &endpoint_service_name(&tkc.name),
            );
            self.call(Call::DeleteTkc, SystemOp::Delete(key), ctx);
        }
        let c = &self.clusters[tkc];
        if c.machines.is_empty() {
            self.call(Call::DeleteTkc, SystemOp::Delete(tkc.clone()), ctx);
            self.clusters.remove(tkc);
        } else {
            self.write_status(tkc, ctx);
        }
    }
}

impl Actor for Capi {
    fn handle<C: Context>(&mut self, event: Event, ctx: &mut C) {
        match event {
            Event::Start => self.started(ctx),
            Event::Supervisor(msg) => self.handle_msg(*msg, ctx),
            other => ctx.note(Note::Unexpected {
                actor: "capi",
                kind: other.kind(),
            }),
        }
    }
}

/// (pool, replicas) of a TKC spec, control plane included.
fn pools(t: &crate::api::objects::TanzuKubernetesCluster) -> Vec<(String, u32)> {
    std::iter::once(&t.control_plane)
        .chain(&t.node_pools)
        .map(|p| (p.name.clone(), p.replicas))
        .collect()
}

/// The kinds the controller watches (checked against [`Addrs::watchers`]).
pub const WATCHED: [Kind; 4] = [
    Kind::TanzuKubernetesCluster,
    Kind::VirtualMachine,
    Kind::VirtualMachineClass,
    Kind::Service,
];

#[cfg(test)]
mod tests;
