//! The VM Operator: reconciles VirtualMachine objects into VMs placed by
//! the DRS-like policy and powered as `spec.powerState` says.
//!
//! It watches VirtualMachine, VirtualMachineClass, PersistentVolumeClaim
//! and StorageClass objects. A VM that should be PoweredOn and holds no
//! host is sent to placement as `SupMsg::Place`:
//! - size: its class's `spec.policies.resources.requests`, the
//!   reservation. A best-effort class (requests zero) reserves nothing,
//!   so it always fits (vSphere admits an unreserved VM anywhere; its
//!   hardware is a limit, not a reservation).
//! - rule: only hosts that see its storage (see [`rule`]); HA restarts it.
//!
//! Each placement life gets a fresh workload id
//! (`workload_id(IdRange::Vms, n)`, n counting up): a power-off, resize or
//! retry never reuses an id, so a late answer about an old life is
//! recognised and ignored, and a host can never see an old power-off land
//! after a new power-on.
//!
//! PoweredOff and Suspended release the host (`Event::VmDeleteRequested`):
//! a powered-off VM holds no compute. A class change of a placed VM is a
//! resize: the old life is deleted and a new one placed with the new size.
//! A VM no host can take is `Unplaceable` and retried with backoff (10 s
//! doubling to 5 min, the shape of controller-runtime's rate limiter with
//! a larger base), and at once whenever one of the operator's VMs frees
//! capacity (deleted, powered off, resized). A VM whose host failed shows
//! no host until HA restarts it (`Placed` again); if HA found no room
//! (`Event::VmLost`) it is `Failed` and retried the same way.

pub mod rule;
pub mod status;

use crate::actor::{Actor, Context, Note};
use crate::api::addrs::{Addrs, IdRange, Part, workload_id};
use crate::api::msg::{CallId, PlaceRule, SupMsg, VmOperatorTimer};
use crate::api::objects::{Body, Kind, Object, ObjectKey, PowerState, VirtualMachine, VmPhase};
use crate::event::Event;
use crate::model::{HostId, Resources, SimDuration, VmId};
use crate::scenario::SupervisorConfig;
use status::VmStatus;
use std::collections::{BTreeMap, BTreeSet};

/// First retry delay after a failed placement; doubles per failure.
pub const BACKOFF_BASE: SimDuration = SimDuration(10_000_000_000);
/// The longest retry delay.
pub const BACKOFF_MAX: SimDuration = SimDuration(300_000_000_000);

/// Why a VM is Failed.
const LOST: &str = "its host failed and vSphere HA found no host with room";
/// Between a Failed VM's first reason and its latest retry's.
const RETRY_SEP: &str = "; last retry: ";

/// The delay before retry number `failures` (1 = after the first failure).
pub fn backoff(failures: u32) -> SimDuration {
    let doublings = failures.saturating_sub(1).min(16);
    SimDuration(
        BACKOFF_BASE
            .0
            .saturating_mul(1 << doublings)
            .min(BACKOFF_MAX.0),
    )
}

/// Where one VirtualMachine's placement stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Life {
    /// Holds no host and has asked for none: powered off, suspended, not
    /// yet placed, or waiting for a retry.
    Idle,
    /// `Place` sent, no answer yet.
    Placing { vm: VmId, size: Resources },
    Running {
        vm: VmId,
        size: Resources,
        host: HostId,
    },
    /// Its host failed; HA may restart it (`Placed`) or give up (`VmLost`).
    Displaced { vm: VmId, size: Resources },
}

impl Life {
    fn workload(&self) -> Option<(VmId, Resources)> {
        match *self {
            Life::Idle => None,
            Life::Placing { vm, size }
            | Life::Running { vm, size, .. }
            | Life::Displaced { vm, size } => Some((vm, size)),
        }
    }
}

#[derive(Clone, Debug)]
struct VmState {
    spec: VirtualMachine,
    /// Its vSphere cluster module (the `vsphere-cluster-module-group`
    /// label), as a placement anti-affinity group.
    module: Option<u32>,
    life: Life,
    /// Failed placements in a row (the backoff exponent).
    failures: u32,
    /// The retry timer armed, if waiting for one.
    retry: Option<u64>,
    /// What status should say.
    desired: VmStatus,
    /// What the store last said.
    observed: VmStatus,
    /// A status write in flight.
    writing: Option<(CallId, VmStatus)>,
}

#[derive(Clone, Debug)]
pub struct VmOperator {
    addrs: Addrs,
    config: SupervisorConfig,
    classes: BTreeMap<String, Resources>,
    /// StorageClass name -> storage policy name.
    storage_classes: BTreeMap<String, String>,
    /// (namespace, claim) -> datastore it is bound to (None: pending).
    claims: BTreeMap<(String, String), Option<String>>,
    /// Datastores CNS reported failed (and not yet repaired).
    failed_datastores: BTreeSet<String>,
    vms: BTreeMap<ObjectKey, VmState>,
    /// Live workload ids -> their VirtualMachine.
    by_id: BTreeMap<VmId, ObjectKey>,
    next_id: u64,
    /// Armed retry timers -> their VirtualMachine (one per waiting VM).
    timers: BTreeMap<u64, ObjectKey>,
    next_timer: u64,
    /// Status writes in flight -> their VirtualMachine.
    calls: BTreeMap<CallId, ObjectKey>,
    next_call: CallId,
    /// Cluster module name -> its anti-affinity group, numbered from
    /// [`FIRST_MODULE_GROUP`] in order of first sight.
    modules: BTreeMap<String, u32>,
}

/// The label naming a VM's cluster module: VMs of one module are kept on
/// different hosts where DRS can (soft anti-affinity). Cluster API puts
/// each guest cluster's control plane and each node pool in one.
pub const CLUSTER_MODULE_LABEL: &str = "vsphere-cluster-module-group";

/// Module groups start here: group 0 is the Supervisor's own control plane.
const FIRST_MODULE_GROUP: u32 = 1000;

/// What the operator believes of one VM (tests, summary).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VmView {
    pub life: Life,
    pub failures: u32,
    pub waiting_for_retry: bool,
}

impl VmOperator {
    pub fn new(config: &SupervisorConfig, addrs: Addrs) -> Self {
        VmOperator {
            addrs,
            // Only the storage topology is read; the rest would only
            // weigh on every copy (crash journals compare states).
            config: SupervisorConfig {
                users: Vec::new(),
                namespaces: Vec::new(),
                node_taints: Vec::new(),
                objects: Vec::new(),
                ..config.clone()
            },
            classes: BTreeMap::new(),
            storage_classes: BTreeMap::new(),
            claims: BTreeMap::new(),
            failed_datastores: BTreeSet::new(),
            vms: BTreeMap::new(),
            by_id: BTreeMap::new(),
            next_id: 0,
            timers: BTreeMap::new(),
            next_timer: 0,
            calls: BTreeMap::new(),
            next_call: 0,
            modules: BTreeMap::new(),
        }
    }

    pub fn view(&self, key: &ObjectKey) -> Option<VmView> {
        self.vms.get(key).map(|s| VmView {
            life: s.life,
            failures: s.failures,
            waiting_for_retry: s.retry.is_some(),
        })
    }

    /// The VirtualMachine a workload id belongs to (its current life only).
    pub fn owner_of(&self, vm: VmId) -> Option<&ObjectKey> {
        self.by_id.get(&vm)
    }

    /// The current workload id of a VirtualMachine, when it has one.
    pub fn workload_of(&self, key: &ObjectKey) -> Option<VmId> {
        self.vms.get(key)?.life.workload().map(|(vm, _)| vm)
    }

    fn handle_msg<C: Context>(&mut self, msg: SupMsg, ctx: &mut C) {
        match msg {
            SupMsg::Changed {
                object, deleted, ..
            } => self.changed(std::sync::Arc::unwrap_or_clone(object), deleted, ctx),
            SupMsg::Placed { vm, host } => self.placed(vm, host, ctx),
            SupMsg::PlaceFailed { vm, reason } => self.place_failed(vm, reason, ctx),
            SupMsg::Displaced { vm } => self.displaced(vm, ctx),
            SupMsg::Workloads { held } => self.still_held(&held, ctx),
            SupMsg::VmOperatorTimer(VmOperatorTimer::Retry { id }) => self.retry_fired(id, ctx),
            SupMsg::DatastoreFailed { datastore } => self.datastore_failed(datastore, ctx),
            SupMsg::Restart => self.restarted(ctx),
            SupMsg::DatastoreRepaired { datastore } => {
                if self.failed_datastores.remove(&datastore) {
                    self.retry_waiting(ctx);
                }
            }
            SupMsg::Reply { id, .. } => {
                // Success or not, the write is over; a failed one is redone
                // when the store next shows a stale status (e.g. the relist
                // after the control plane regains quorum).
                if let Some(key) = self.calls.remove(&id)
                    && let Some(s) = self.vms.get_mut(&key)
                    && s.writing.as_ref().is_some_and(|(c, _)| *c == id)
                {
                    s.writing = None;
                }
            }
            other => ctx.note(Note::Unexpected {
                actor: "vm-operator",
                kind: other.kind(),
            }),
        }
    }

    /// Start: at time 0 (nothing to do) or after a crash and the relist,
    /// when timers were lost: waiting VMs try again.
    fn started<C: Context>(&mut self, ctx: &mut C) {
        self.retry_waiting(ctx);
    }

    /// Its own restart, before the relist: answers sent while it was down
    /// were lost. Lives whose placement answer may have been lost are
    /// replaced by new ones; status writes whose reply was lost are
    /// forgotten (redone if the store still differs when it next shows the
    /// VM).
    fn restarted<C: Context>(&mut self, ctx: &mut C) {
        self.calls.clear();
        let unsure: Vec<ObjectKey> = self
            .vms
            .iter_mut()
            .filter_map(|(k, s)| {
                s.writing = None;
                matches!(s.life, Life::Placing { .. } | Life::Displaced { .. }).then(|| k.clone())
            })
            .collect();
        for key in unsure {
            let life = std::mem::replace(
                &mut self.vms.get_mut(&key).expect("listed").life,
                Life::Idle,
            );
            self.release(life, ctx);
            self.reconcile(&key, true, ctx);
        }
    }

    // ---- watches

    fn changed<C: Context>(&mut self, object: Object, deleted: bool, ctx: &mut C) {
        let key = object.key();
        match object.body {
            Body::VirtualMachine(_) if deleted => self.vm_deleted(&key, ctx),
            Body::VirtualMachine(vm) => {
                let module = object.meta.labels.get(CLUSTER_MODULE_LABEL).cloned();
                let module = module.map(|m| self.module_group(m));
                self.vm_changed(key, vm, module, ctx)
            }
            Body::VirtualMachineClass(class) => {
                if deleted {
                    self.classes.remove(&key.name);
                } else if self.classes.insert(key.name.clone(), class.requests)
                    != Some(class.requests)
                {
                    // A new reservation: resize running VMs of the class,
                    // retry waiting ones.
                    let users: Vec<ObjectKey> = self
                        .vms
                        .iter()
                        .filter(|(_, s)| s.spec.class_name == key.name)
                        .map(|(k, _)| k.clone())
                        .collect();
                    for k in users {
                        self.reconcile(&k, true, ctx);
                    }
                }
            }
            Body::StorageClass(sc) => {
                if deleted {
                    self.storage_classes.remove(&key.name);
                } else {
                    self.storage_classes.insert(key.name, sc.storage_policy);
                }
            }
            Body::PersistentVolumeClaim(pvc) => {
                let claim = (key.namespace.clone(), key.name.clone());
                if deleted {
                    self.claims.remove(&claim);
                    return;
                }
                if self.claims.insert(claim, pvc.datastore.clone()) == Some(pvc.datastore) {
                    return;
                }
                // A claim got bound: VMs waiting on it may go now.
                let users: Vec<ObjectKey> = self
                    .vms
                    .iter()
                    .filter(|(k, s)| {
                        k.namespace == key.namespace && s.spec.volumes.contains(&key.name)
                    })
                    .map(|(k, _)| k.clone())
                    .collect();
                for k in users {
                    self.reconcile(&k, true, ctx);
                }
            }
            _ => {}
        }
    }

    fn module_group(&mut self, module: String) -> u32 {
        let next = FIRST_MODULE_GROUP + self.modules.len() as u32;
        *self.modules.entry(module).or_insert(next)
    }

    fn vm_changed<C: Context>(
        &mut self,
        key: ObjectKey,
        vm: VirtualMachine,
        module: Option<u32>,
        ctx: &mut C,
    ) {
        let observed = VmStatus::of(&vm);
        match self.vms.get_mut(&key) {
            Some(s) => {
                let class_changed = s.spec.class_name != vm.class_name;
                s.spec = vm;
                s.observed = observed;
                self.reconcile(&key, class_changed, ctx);
            }
            None => {
                let state = VmState {
                    desired: observed.clone(),
                    observed,
                    spec: vm,
                    module,
                    life: Life::Idle,
                    failures: 0,
                    retry: None,
                    writing: None,
                };
                self.vms.insert(key.clone(), state);
                self.reconcile(&key, true, ctx);
            }
        }
        self.sync_status(&key, ctx);
    }

    fn vm_deleted<C: Context>(&mut self, key: &ObjectKey, ctx: &mut C) {
        let Some(s) = self.vms.remove(key) else {
            return;
        };
        if let Some(t) = s.retry {
            self.timers.remove(&t);
        }
        if let Some(w) = s.writing {
            self.calls.remove(&w.0);
        }
        if self.release(s.life, ctx) {
            self.retry_waiting(ctx);
        }
    }

    // ---- reconciliation

    /// Brings `key` towards its spec. `force`: a waiting VM tries again now
    /// (something it depends on changed) instead of at its retry timer.
    fn reconcile<C: Context>(&mut self, key: &ObjectKey, force: bool, ctx: &mut C) {
        let Some(s) = self.vms.get(key) else {
            return;
        };
        let want = s.spec.power_state;
        let life = s.life;
        if want != PowerState::PoweredOn {
            let freed = self.release(life, ctx);
            let s = self.vms.get_mut(key).expect("checked above");
            s.life = Life::Idle;
            s.failures = 0;
            if let Some(t) = s.retry.take() {
                self.timers.remove(&t);
            }
            s.desired = VmStatus::off(VmPhase::Created, want, None);
            self.sync_status(key, ctx);
            if freed {
                self.retry_waiting(ctx);
            }
            return;
        }
        let request = self.request(key);
        let s = &self.vms[key];
        match (life.workload(), &request) {
            // Placed (or on its way) at the size it should have: nothing to do.
            (Some((_, size)), Ok((want_size, _))) if size == *want_size => return,
            // Placed but the class cannot be read: keep what runs.
            (Some(_), Err(_)) => return,
            // Resize: the old life goes first, freeing its host's share.
            (Some(_), Ok(_)) => {
                self.release(life, ctx);
                self.vms.get_mut(key).expect("checked above").life = Life::Idle;
                self.place(key, request, ctx);
                self.retry_waiting(ctx);
                return;
            }
            (None, _) if s.retry.is_some() && !force => return,
            (None, _) => {}
        }
        self.place(key, request, ctx);
    }

    /// The size and rule `key` should be placed with, or why it cannot be.
    fn request(&self, key: &ObjectKey) -> Result<(Resources, PlaceRule), String> {
        let spec = &self.vms[key].spec;
        let Some(&size) = self.classes.get(&spec.class_name) else {
            return Err(format!("virtualmachineclass {} not found", spec.class_name));
        };
        Ok((size, self.rule(key)?))
    }

    /// Where `key` may run, from its storage (see [`rule`]).
    fn rule(&self, key: &ObjectKey) -> Result<PlaceRule, String> {
        let spec = &self.vms[key].spec;
        let claims: Vec<rule::Claim<'_>> = spec
            .volumes
            .iter()
            .map(|name| rule::Claim {
                name,
                datastore: self
                    .claims
                    .get(&(key.namespace.clone(), name.clone()))
                    .and_then(|d| d.as_deref()),
            })
            .collect();
        let policy = self
            .storage_classes
            .get(&spec.storage_class)
            .map(String::as_str);
        let hosts = self.addrs.host_names.len();
        let only = rule::allowed_hosts(
            &self.config,
            hosts,
            &claims,
            policy,
            &self.failed_datastores,
        )?;
        Ok(PlaceRule {
            only: only.unwrap_or_default(),
            anti_affinity_group: self.vms[key].module,
            soft_anti_affinity: true,
            restart: true,
        })
    }

    /// A datastore failed: VMs that can no longer run anywhere (a claim on
    /// it, or every datastore of their policy down) lose their host and
    /// are Failed until it is repaired.
    fn datastore_failed<C: Context>(&mut self, datastore: String, ctx: &mut C) {
        if !self.failed_datastores.insert(datastore) {
            return;
        }
        let placed: Vec<ObjectKey> = self
            .vms
            .iter()
            .filter(|(_, s)| s.life.workload().is_some())
            .map(|(k, _)| k.clone())
            .collect();
        for key in placed {
            if let Err(reason) = self.rule(&key) {
                let life = self.vms[&key].life;
                self.release(life, ctx);
                self.wait(&key, VmPhase::Failed, reason, ctx);
            }
        }
    }

    /// Asks placement for a host under a fresh workload id, or records why
    /// it cannot ask and waits for a retry.
    fn place<C: Context>(
        &mut self,
        key: &ObjectKey,
        request: Result<(Resources, PlaceRule), String>,
        ctx: &mut C,
    ) {
        let s = self.vms.get_mut(key).expect("placing a known vm");
        if let Some(t) = s.retry.take() {
            self.timers.remove(&t);
        }
        match request {
            Ok((size, rule)) => {
                let vm = workload_id(IdRange::Vms, self.next_id);
                self.next_id += 1;
                s.life = Life::Placing { vm, size };
                self.by_id.insert(vm, key.clone());
                let msg = SupMsg::Place { vm, size, rule };
                ctx.send(self.addrs.placement, SimDuration::ZERO, msg.event());
            }
            Err(reason) => self.wait(key, VmPhase::Unplaceable, reason, ctx),
        }
    }

    /// Holds no host for now: status says why, a retry is armed.
    fn wait<C: Context>(&mut self, key: &ObjectKey, phase: VmPhase, reason: String, ctx: &mut C) {
        let s = self.vms.get_mut(key).expect("waiting vm is known");
        // A Failed VM stays Failed (with its first reason) while retries fail.
        let (phase, reason) = match (&s.desired, phase) {
            (d, VmPhase::Unplaceable) if d.phase == VmPhase::Failed => {
                let first = d.reason.as_deref().unwrap_or(LOST);
                let first = first.split(RETRY_SEP).next().unwrap_or(first);
                let reason = if reason == first {
                    reason
                } else {
                    format!("{first}{RETRY_SEP}{reason}")
                };
                (VmPhase::Failed, reason)
            }
            _ => (phase, reason),
        };
        s.life = Life::Idle;
        s.failures += 1;
        s.desired = VmStatus::off(phase, PowerState::PoweredOff, Some(reason));
        if let Some(t) = s.retry.take() {
            self.timers.remove(&t);
        }
        let timer = self.next_timer;
        self.next_timer += 1;
        s.retry = Some(timer);
        let delay = backoff(s.failures);
        self.timers.insert(timer, key.clone());
        let msg = SupMsg::VmOperatorTimer(VmOperatorTimer::Retry { id: timer });
        ctx.send(ctx.me(), delay, msg.event());
        self.sync_status(key, ctx);
    }

    /// Gives a life's host back; true when it held (or was about to hold)
    /// capacity.
    fn release<C: Context>(&mut self, life: Life, ctx: &mut C) -> bool {
        let Some((vm, _)) = life.workload() else {
            return false;
        };
        self.by_id.remove(&vm);
        ctx.send(
            self.addrs.placement,
            SimDuration::ZERO,
            Event::VmDeleteRequested { vm },
        );
        true
    }

    /// Capacity (or a datastore) came back: every VM waiting to be placed
    /// tries now, in key order.
    fn retry_waiting<C: Context>(&mut self, ctx: &mut C) {
        // The armed timers are exactly the waiting VMs.
        let waiting: BTreeSet<ObjectKey> = self.timers.values().cloned().collect();
        for key in waiting {
            self.reconcile(&key, true, ctx);
        }
    }

    fn retry_fired<C: Context>(&mut self, timer: u64, ctx: &mut C) {
        let Some(key) = self.timers.remove(&timer) else {
            return; // superseded
        };
        if let Some(s) = self.vms.get_mut(&key)
            && s.retry == Some(timer)
        {
            s.retry = None;
            self.reconcile(&key, true, ctx);
        }
    }

    // ---- placement's answers

    /// The VM of `vm`'s current life, if `vm` is current.
    fn current(&self, vm: VmId) -> Option<ObjectKey> {
        self.by_id.get(&vm).cloned()
    }

    fn placed<C: Context>(&mut self, vm: VmId, host: HostId, ctx: &mut C) {
        let Some(key) = self.current(vm) else {
            return;
        };
        let node = self.addrs.node_name(host).to_string();
        let s = self.vms.get_mut(&key).expect("indexed vm is known");
        let Some((_, size)) = s.life.workload() else {
            return;
        };
        s.life = Life::Running { vm, size, host };
        s.failures = 0;
        s.desired = VmStatus::running(&node);
        self.sync_status(&key, ctx);
    }

    fn place_failed<C: Context>(&mut self, vm: VmId, reason: String, ctx: &mut C) {
        let Some(key) = self.current(vm) else {
            return;
        };
        self.by_id.remove(&vm);
        self.wait(&key, VmPhase::Unplaceable, reason, ctx);
    }

    fn displaced<C: Context>(&mut self, vm: VmId, ctx: &mut C) {
        let Some(key) = self.current(vm) else {
            return;
        };
        let s = self.vms.get_mut(&key).expect("indexed vm is known");
        let reason = match s.life {
            Life::Running { host, .. } => format!(
                "host {} failed; waiting for vSphere HA to restart the VM",
                self.addrs.node_name(host)
            ),
            Life::Placing { .. } => "host failed; waiting for vSphere HA to restart the VM".into(),
            Life::Idle | Life::Displaced { .. } => return,
        };
        let size = s.life.workload().expect("placed").1;
        s.life = Life::Displaced { vm, size };
        s.desired = VmStatus::off(VmPhase::Created, PowerState::PoweredOff, Some(reason));
        self.sync_status(&key, ctx);
    }

    /// After its restart, what placement holds of the VMs it believes
    /// running: a host failure, an HA restart or a loss told while it was
    /// down was lost with the process, so it is taken from here.
    fn still_held<C: Context>(&mut self, held: &[(VmId, Option<HostId>)], ctx: &mut C) {
        let running: Vec<(VmId, HostId)> = (self.vms.values())
            .filter_map(|s| match s.life {
                Life::Running { vm, host, .. } => Some((vm, host)),
                _ => None,
            })
            .collect();
        for (vm, host) in running {
            match held.binary_search_by_key(&vm, |(v, _)| *v) {
                Err(_) => self.lost(vm, ctx),
                Ok(i) => match held[i].1 {
                    None => self.displaced(vm, ctx),
                    Some(now) if now != host => self.placed(vm, now, ctx),
                    Some(_) => {}
                },
            }
        }
    }

    fn lost<C: Context>(&mut self, vm: VmId, ctx: &mut C) {
        let Some(key) = self.current(vm) else {
            return;
        };
        self.by_id.remove(&vm);
        self.wait(&key, VmPhase::Failed, LOST.to_string(), ctx);
    }

    // ---- status

    /// Writes the desired status when the store shows something else and
    /// no write of it is already under way.
    fn sync_status<C: Context>(&mut self, key: &ObjectKey, ctx: &mut C) {
        let Some(s) = self.vms.get_mut(key) else {
            return;
        };
        // What the store will say once the write under way (if any) lands.
        let latest = s.writing.as_ref().map_or(&s.observed, |(_, st)| st);
        if s.desired == *latest {
            return;
        }
        let id = self.next_call;
        self.next_call += 1;
        if let Some((old, _)) = s.writing.replace((id, s.desired.clone())) {
            self.calls.remove(&old);
        }
        self.calls.insert(id, key.clone());
        let op = s.desired.op(key);
        let msg = SupMsg::System { id, op };
        ctx.send(self.addrs[Part::ApiServer], SimDuration::ZERO, msg.event());
    }
}

impl Actor for VmOperator {
    fn handle<C: Context>(&mut self, event: Event, ctx: &mut C) {
        match event {
            Event::Supervisor(msg) => self.handle_msg(*msg, ctx),
            Event::VmLost { vm } => self.lost(vm, ctx),
            // Defensive: placement's plain refusals, should it use them.
            Event::VmRejected { vm } => self.place_failed(vm, "no host has room".into(), ctx),
            Event::VmRefused { vm, reason } => {
                let why = format!("refused by placement: {}", reason.name());
                self.place_failed(vm, why, ctx)
            }
            Event::Start => self.started(ctx),
            other => ctx.note(Note::Unexpected {
                actor: "vm-operator",
                kind: other.kind(),
            }),
        }
    }
}

/// The kinds the operator needs to watch (checked by a test against
/// [`Addrs::watchers`]).
pub const WATCHED: [Kind; 4] = [
    Kind::VirtualMachine,
    Kind::VirtualMachineClass,
    Kind::PersistentVolumeClaim,
    Kind::StorageClass,
];

#[cfg(test)]
mod tests;
