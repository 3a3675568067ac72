//! The Supervisor's API server: the store of objects (each write bumps the
//! resourceVersion and is pushed to the watching controllers), admission
//! (namespace limits, allowed classes, references; NSX addresses and CNS
//! volumes are asked of the network and storage actors before a create is
//! acknowledged), and the control plane's quorum: while fewer than a
//! majority of the control-plane VMs run, every call fails with the reason
//! and no watch event goes out, so nothing is reconciled.

pub mod admission;
pub mod control_plane;
mod store;

pub use store::Store;

use crate::actor::{Actor, Context, Note};
use crate::api::Verb;
use crate::api::addrs::{Addrs, IdRange, Part, workload_id};
use crate::api::msg::{ApiError, ApiServerTimer, CallId, PlaceRule, SupMsg, SystemOp};
use crate::api::notes::{CallExample, SupNote};
use crate::api::objects::{
    Body, ClusterPhase, Kind, Meta, NamespaceObj, Object, ObjectKey, PodPhase,
};
use crate::event::Event;
use crate::model::{ActorId, HostId, Lookup, SimDuration, SimTime, VmId};
use crate::scenario::{NamespaceConfig, SupervisorConfig};
use admission::Usage;
use control_plane::ControlPlane;
use std::collections::{BTreeMap, BTreeSet};

/// A create waiting for NSX or CNS before it is acknowledged.
#[derive(Clone, Debug)]
struct PendingCreate {
    reply_to: ActorId,
    id: CallId,
    object: Object,
    charge: Usage,
}

/// How long a lost control-plane VM waits before it is placed again.
const CONTROL_PLANE_RETRY: SimDuration = SimDuration(60_000_000_000);

#[derive(Clone, Debug)]
pub struct ApiServer {
    addrs: Addrs,
    namespaces: BTreeMap<String, NamespaceConfig>,
    objects: Store,
    /// What each stored object counts against its namespace.
    charges: Lookup<ObjectKey, Usage>,
    /// Per namespace: stored and pending charges.
    usage: BTreeMap<String, Usage>,
    rv: u64,
    pending: BTreeMap<u64, PendingCreate>,
    /// The keys of `pending`, so that a create finds a duplicate in flight
    /// without a scan (65,536 pods created at once made every create cost
    /// a pass over all the others).
    pending_keys: BTreeSet<ObjectKey>,
    next_ticket: u64,
    control_plane: ControlPlane,
    /// Created at start by the administrator (namespaces, classes, ...).
    initial: Vec<Object>,
    /// Every object whose create was acknowledged, and every deleted one:
    /// the `api-objects` invariant holds the first within the store and
    /// the second.
    acknowledged: BTreeSet<ObjectKey>,
    tombstones: BTreeSet<ObjectKey>,
    /// Every write since the last [`ApiServer::take_changes`], when a
    /// served Supervisor's watches asked for it (`None` in simulations).
    /// Outside the model: nothing an actor sees depends on it.
    feed: Option<Vec<Change>>,
}

/// One write to the store, for watches from outside the world.
#[derive(Clone, Debug)]
pub struct Change {
    pub rv: u64,
    /// When the write was made.
    pub at: crate::model::SimTime,
    pub object: Object,
    pub kind: ChangeKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeKind {
    Added,
    Modified,
    Deleted,
}

impl ChangeKind {
    /// As a watch event's `type`.
    pub fn name(self) -> &'static str {
        match self {
            ChangeKind::Added => "ADDED",
            ChangeKind::Modified => "MODIFIED",
            ChangeKind::Deleted => "DELETED",
        }
    }
}

impl ApiServer {
    pub fn new(config: &SupervisorConfig, addrs: Addrs) -> Self {
        let namespaces: BTreeMap<String, NamespaceConfig> = config
            .namespaces
            .iter()
            .map(|n| (n.name.clone(), n.clone()))
            .collect();
        let mut initial: Vec<Object> = namespaces
            .keys()
            .map(|name| Object {
                meta: Meta {
                    name: name.clone(),
                    ..Meta::default()
                },
                body: Body::Namespace(NamespaceObj {}),
            })
            .collect();
        initial.extend(config.objects.iter().cloned());
        let cp = &config.control_plane;
        let vms = (0..cp.vms as u64)
            .map(|i| workload_id(IdRange::ControlPlane, i))
            .collect();
        ApiServer {
            addrs,
            usage: namespaces
                .keys()
                .map(|n| (n.clone(), Usage::default()))
                .collect(),
            namespaces,
            objects: Store::default(),
            charges: Lookup::default(),
            rv: 0,
            pending: BTreeMap::new(),
            pending_keys: BTreeSet::new(),
            next_ticket: 0,
            control_plane: ControlPlane::new(vms, cp.size, cp.boot.clone()),
            initial,
            acknowledged: BTreeSet::new(),
            tombstones: BTreeSet::new(),
            feed: None,
        }
    }

    /// Starts keeping the change feed (see [`ApiServer::take_changes`]).
    pub fn keep_changes(&mut self) {
        self.feed.get_or_insert_with(Vec::new);
    }

    /// The writes since the last call, in resourceVersion order.
    pub fn take_changes(&mut self) -> Vec<Change> {
        self.feed.as_mut().map(std::mem::take).unwrap_or_default()
    }

    /// The store's current resourceVersion.
    pub fn resource_version(&self) -> u64 {
        self.rv
    }

    fn feed(&mut self, rv: u64, at: crate::model::SimTime, object: &Object, kind: ChangeKind) {
        if let Some(feed) = &mut self.feed {
            feed.push(Change {
                rv,
                at,
                object: object.clone(),
                kind,
            });
        }
    }

    /// The store, in key order.
    pub fn objects(&self) -> impl Iterator<Item = &Object> {
        self.objects.values()
    }

    pub fn get(&self, key: &ObjectKey) -> Option<&Object> {
        self.objects.get(key)
    }

    /// Per namespace: what is charged against it and its limits.
    pub fn namespace_usage(&self) -> impl Iterator<Item = (&NamespaceConfig, Usage)> {
        self.namespaces
            .values()
            .map(|n| (n, self.usage.get(&n.name).copied().unwrap_or_default()))
    }

    pub fn available(&self) -> bool {
        self.control_plane.available()
    }

    /// An acknowledged object that is neither stored nor deleted by a
    /// recorded call (it would have been lost).
    pub fn lost_object(&self) -> Option<&ObjectKey> {
        self.acknowledged
            .iter()
            .find(|k| !self.objects.contains_key(k) && !self.tombstones.contains(*k))
    }

    /// Each control-plane member's host (as the API server knows it) and
    /// whether it runs, by member.
    pub fn control_plane_members(&self) -> impl Iterator<Item = (Option<HostId>, bool)> + '_ {
        self.control_plane.members.iter().map(|m| (m.host, m.up))
    }

    /// (running, total) control-plane VMs.
    pub fn control_plane_running(&self) -> (usize, usize) {
        (
            self.control_plane.running(),
            self.control_plane.members.len(),
        )
    }

    fn handle_msg<C: Context>(&mut self, msg: SupMsg, ctx: &mut C) {
        let caller = ctx.sender();
        match msg {
            SupMsg::Authorized {
                id,
                caller,
                verb,
                object,
                ..
            } => self.user_call(caller, id, verb, object, ctx),
            SupMsg::System { id, op } => self.system_call(caller, id, op, ctx),
            SupMsg::IpGranted { ticket, ip } => self.admitted(ticket, Some(ip), None, ctx),
            SupMsg::VolumeGranted { ticket, datastore } => {
                self.admitted(ticket, None, Some(datastore), ctx)
            }
            SupMsg::IpRefused { ticket, reason } => {
                self.refused_pending(ticket, ApiError::IpExhausted(reason), ctx)
            }
            SupMsg::VolumeRefused { ticket, reason } => {
                self.refused_pending(ticket, ApiError::StorageUnavailable(reason), ctx)
            }
            SupMsg::Placed { vm, host } => self.member_placed(vm, host, ctx),
            SupMsg::PlaceFailed { vm, .. } => self.member_lost(vm, ctx),
            SupMsg::Displaced { vm } => self.member_displaced(vm, ctx),
            SupMsg::ControlPlaneBooted { member, generation } => {
                self.member_booted(member as usize, generation, ctx)
            }
            SupMsg::ApiServerTimer(ApiServerTimer::PlaceMember { member }) => {
                self.place_member(member as usize, ctx)
            }
            SupMsg::List => self.list(caller, ctx),
            // Its own restart: the store is whole, but the boot timers that
            // fired while it was down were lost.
            SupMsg::Restart => self.resume_boots(ctx),
            SupMsg::Workloads { held } => self.members_held(&held, ctx),
            SupMsg::ControlPlaneVmFailed { member } => {
                ctx.note(Note::Sup(SupNote::Fault {
                    kind: "control_plane_vm",
                }));
                self.member_rebooting(member as usize, ctx)
            }
            other => ctx.note(Note::Unexpected {
                actor: "api-server",
                kind: other.kind(),
            }),
        }
    }

    fn start<C: Context>(&mut self, ctx: &mut C) {
        for object in std::mem::take(&mut self.initial) {
            let key = object.key();
            self.store(key, object, ctx);
        }
        for member in 0..self.control_plane.members.len() {
            self.place_member(member, ctx);
        }
    }

    // ---- calls

    /// Answers call `id`, about the object `about`.
    fn reply<C: Context>(
        &self,
        to: ActorId,
        id: CallId,
        result: Result<u64, ApiError>,
        about: &ObjectKey,
        ctx: &mut C,
    ) {
        let note = match &result {
            Ok(_) => SupNote::CallAccepted,
            Err(e) => SupNote::CallRefused {
                kind: e.kind(),
                example: Box::new(CallExample {
                    object: Some(about.clone()),
                    message: e.reason().to_string(),
                }),
            },
        };
        ctx.note(Note::Sup(note));
        ctx.send(to, SimDuration::ZERO, SupMsg::Reply { id, result }.event());
    }

    fn unavailable(&self) -> Option<ApiError> {
        (!self.control_plane.available())
            .then(|| ApiError::Unavailable(self.control_plane.unavailable_reason()))
    }

    fn user_call<C: Context>(
        &mut self,
        caller: ActorId,
        id: CallId,
        verb: Verb,
        object: Object,
        ctx: &mut C,
    ) {
        let key = object.key();
        if let Some(e) = self.unavailable() {
            return self.reply(caller, id, Err(e), &key, ctx);
        }
        let result = match verb {
            Verb::Create => return self.create(caller, id, object, ctx),
            Verb::Update => self.update(&key, &object, ctx),
            // A finalizer: Cluster API deletes the machines first, then the
            // object (a system delete).
            Verb::Delete if key.kind == Kind::TanzuKubernetesCluster => {
                self.patch(&key, ctx, |o| {
                    if let Body::TanzuKubernetesCluster(t) = &mut o.body {
                        t.phase = ClusterPhase::Deleting;
                    }
                })
            }
            Verb::Delete => self.delete(&key, ctx),
            Verb::Get => self
                .objects
                .get(&key)
                .map(|o| o.meta.resource_version)
                .ok_or_else(|| not_found(&key)),
        };
        self.reply(caller, id, result, &key, ctx);
    }

    fn system_call<C: Context>(&mut self, caller: ActorId, id: CallId, op: SystemOp, ctx: &mut C) {
        if let Some(e) = self.unavailable() {
            return self.reply(caller, id, Err(e), &op.object_key(), ctx);
        }
        // Only a refusal needs it, but `op` is consumed below.
        let about = op.object_key();
        let result = match op {
            SystemOp::Create(object) if object.kind() == Kind::Node => {
                let key = object.key();
                Ok(self.store(key, *object, ctx))
            }
            SystemOp::Create(object) => return self.create(caller, id, *object, ctx),
            SystemOp::Delete(key) => self.delete(&key, ctx),
            SystemOp::SetReplicas {
                set,
                replicas,
                revision,
                annotations,
            } => self.patch(&set, ctx, |o| {
                if let Body::ReplicaSet(rs) = &mut o.body {
                    rs.replicas = replicas;
                    rs.revision = revision;
                    if let Some(annotations) = annotations {
                        rs.annotations = annotations;
                    }
                }
            }),
            SystemOp::Bind { pod, node, reason } => self.patch(&pod, ctx, |o| {
                if let Body::Pod(p) = &mut o.body {
                    p.node = node;
                    p.reason = reason;
                }
            }),
            SystemOp::PodStatus { pod, phase, reason } => {
                let now = ctx.now();
                let result = self.patch(&pod, ctx, |o| {
                    if let Body::Pod(p) = &mut o.body {
                        p.phase = phase;
                        p.reason = reason;
                        if phase == PodPhase::Running && p.started.is_none() {
                            p.started = Some(now);
                        }
                    }
                });
                if result.is_ok() {
                    self.pod_phase_changed(&pod, phase, ctx);
                }
                result
            }
            SystemOp::VmStatus {
                vm,
                phase,
                power,
                host,
                reason,
            } => self.patch(&vm, ctx, |o| {
                if let Body::VirtualMachine(v) = &mut o.body {
                    v.phase = phase;
                    v.actual_power = power;
                    v.host = host;
                    v.reason = reason;
                }
            }),
            SystemOp::NodeStatus { node, ready } => {
                let key = ObjectKey::new(Kind::Node, "", &node);
                self.patch(&key, ctx, |o| {
                    if let Body::Node(n) = &mut o.body {
                        n.ready = ready;
                    }
                })
            }
            SystemOp::PvcBound { pvc, datastore } => self.patch(&pvc, ctx, |o| {
                if let Body::PersistentVolumeClaim(c) = &mut o.body {
                    c.datastore = Some(datastore);
                }
            }),
            SystemOp::TkcStatus {
                tkc,
                phase,
                endpoint,
                nodes_ready,
            } => self.patch(&tkc, ctx, |o| {
                if let Body::TanzuKubernetesCluster(t) = &mut o.body {
                    if t.phase != ClusterPhase::Deleting {
                        t.phase = phase;
                    }
                    t.endpoint = endpoint;
                    t.nodes_ready = nodes_ready;
                }
            }),
        };
        self.reply(caller, id, result, &about, ctx);
    }

    /// What a user's call would do, decided as the call itself decides it
    /// and changing nothing (a server-side dry run): the object as it
    /// would be stored (`None` for a delete), or why not. NSX and CNS are
    /// not asked for an address or a volume.
    pub fn dry_run(
        &self,
        verb: &Verb,
        object: Object,
        now: SimTime,
    ) -> Result<Option<Object>, ApiError> {
        if let Some(e) = self.unavailable() {
            return Err(e);
        }
        let key = object.key();
        match verb {
            Verb::Create => {
                self.check_create(&object)?;
                let mut object = object;
                object.meta.creation = now;
                object.meta.resource_version = 0;
                Ok(Some(object))
            }
            Verb::Update => self
                .check_update(&key, &object)
                .map(|(changed, _)| Some(changed)),
            Verb::Delete if key.kind == Kind::TanzuKubernetesCluster => {
                let mut deleting = self
                    .objects
                    .get(&key)
                    .cloned()
                    .ok_or_else(|| not_found(&key))?;
                if let Body::TanzuKubernetesCluster(t) = &mut deleting.body {
                    t.phase = ClusterPhase::Deleting;
                }
                Ok(Some(deleting))
            }
            Verb::Delete => self.check_delete(&key).map(|()| None),
            Verb::Get => self
                .objects
                .get(&key)
                .cloned()
                .map(Some)
                .ok_or_else(|| not_found(&key)),
        }
    }

    /// A create's checks: the key is free, its namespace exists, what it
    /// references is allowed, it fits the quota. Its charge when it passes.
    fn check_create(&self, object: &Object) -> Result<Usage, ApiError> {
        let key = object.key();
        let ns = self.namespaces.get(&key.namespace);
        if self.objects.contains_key(&key) || self.pending_keys.contains(&key) {
            return Err(ApiError::AlreadyExists(format!(
                "{} {} already exists",
                key.kind.resource(),
                key.name
            )));
        }
        if !key.kind.cluster_scoped() && ns.is_none() {
            return Err(ApiError::NotFound(format!(
                "namespace {} not found",
                key.namespace
            )));
        }
        admission::check_references(object, ns, &self.objects, &self.pending_keys)?;
        let charge = admission::charge(object, &self.objects);
        if let Some(ns) = ns {
            admission::check_quota(ns, self.usage[&ns.name], charge)?;
        }
        Ok(charge)
    }

    fn create<C: Context>(&mut self, caller: ActorId, id: CallId, mut object: Object, ctx: &mut C) {
        let key = object.key();
        let checked = self.check_create(&object);
        let charge = match checked {
            Ok(charge) => charge,
            Err(e) => return self.reply(caller, id, Err(e), &key, ctx),
        };
        object.meta.creation = ctx.now();
        if key.kind == Kind::Namespace {
            self.add_namespace(&key.name);
        }
        let ticket = self.next_ticket;
        let request = match &object.body {
            Body::Pod(_) | Body::VirtualMachine(_) => Some(SupMsg::IpRequest {
                ticket,
                namespace: key.namespace.clone(),
                vip: false,
            }),
            Body::Service(s) if s.load_balancer => Some(SupMsg::IpRequest {
                ticket,
                namespace: key.namespace.clone(),
                vip: true,
            }),
            Body::PersistentVolumeClaim(pvc) => Some(SupMsg::VolumeRequest {
                ticket,
                storage_policy: self.storage_policy_of(&pvc.storage_class),
                bytes: pvc.bytes,
            }),
            _ => None,
        };
        match request {
            None => {
                self.charge(&key, charge);
                self.acknowledged.insert(key.clone());
                let rv = self.store(key.clone(), object, ctx);
                self.reply(caller, id, Ok(rv), &key, ctx);
            }
            Some(request) => {
                self.next_ticket += 1;
                let to = match request {
                    SupMsg::VolumeRequest { .. } => self.addrs[Part::Storage],
                    _ => self.addrs[Part::Network],
                };
                // Held against the namespace while NSX / CNS answer, so two
                // creates in flight cannot both pass the limit.
                if let Some(u) = self.usage.get_mut(&key.namespace) {
                    *u = u.plus(charge);
                }
                self.pending_keys.insert(key);
                self.pending.insert(
                    ticket,
                    PendingCreate {
                        reply_to: caller,
                        id,
                        object,
                        charge,
                    },
                );
                ctx.send(to, SimDuration::ZERO, request.event());
            }
        }
    }

    fn storage_policy_of(&self, class: &str) -> String {
        match self
            .objects
            .get(&ObjectKey::new(Kind::StorageClass, "", class))
            .map(|o| &o.body)
        {
            Some(Body::StorageClass(sc)) => sc.storage_policy.clone(),
            _ => class.to_string(),
        }
    }

    /// NSX or CNS said yes: the create completes.
    fn admitted<C: Context>(
        &mut self,
        ticket: u64,
        ip: Option<String>,
        datastore: Option<String>,
        ctx: &mut C,
    ) {
        let Some(mut p) = self.pending.remove(&ticket) else {
            return;
        };
        self.pending_keys.remove(&p.object.key());
        match &mut p.object.body {
            Body::Pod(pod) => pod.ip = ip,
            Body::VirtualMachine(vm) => vm.ip = ip,
            Body::Service(s) => s.vip = ip,
            Body::PersistentVolumeClaim(pvc) => pvc.datastore = datastore,
            _ => {}
        }
        let key = p.object.key();
        self.charges.insert(key.clone(), p.charge);
        self.acknowledged.insert(key.clone());
        let rv = self.store(key.clone(), p.object, ctx);
        self.reply(p.reply_to, p.id, Ok(rv), &key, ctx);
    }

    fn refused_pending<C: Context>(&mut self, ticket: u64, error: ApiError, ctx: &mut C) {
        let Some(p) = self.pending.remove(&ticket) else {
            return;
        };
        self.pending_keys.remove(&p.object.key());
        if let Some(u) = self.usage.get_mut(&p.object.meta.namespace) {
            *u = u.minus(p.charge);
        }
        self.reply(p.reply_to, p.id, Err(error), &p.object.key(), ctx);
    }

    fn update<C: Context>(
        &mut self,
        key: &ObjectKey,
        update: &Object,
        ctx: &mut C,
    ) -> Result<u64, ApiError> {
        let (changed, charge) = self.check_update(key, update)?;
        self.charge(key, charge);
        Ok(self.store(key.clone(), changed, ctx))
    }

    /// An update's checks: the object exists at the version named (if
    /// any), the change is allowed, it fits the quota. The object as it
    /// would be stored, and its new charge.
    fn check_update(&self, key: &ObjectKey, update: &Object) -> Result<(Object, Usage), ApiError> {
        let mut changed = self
            .objects
            .get(key)
            .cloned()
            .ok_or_else(|| not_found(key))?;
        // Optimistic concurrency: an update naming a resourceVersion must
        // name the stored one (0, as scenario calls send, names none).
        let named = update.meta.resource_version;
        if named != 0 && named != changed.meta.resource_version {
            return Err(ApiError::Conflict(format!(
                "{key} is at resourceVersion {}, the update names {named}",
                changed.meta.resource_version
            )));
        }
        admission::apply_update(&mut changed, update)?;
        let ns = self.namespaces.get(&key.namespace);
        admission::check_references(&changed, ns, &self.objects, &self.pending_keys)?;
        let old = self.charges.get(key).copied().unwrap_or_default();
        let new = admission::charge(&changed, &self.objects);
        if let Some(ns) = ns {
            let used = self.usage[&ns.name].minus(old);
            admission::check_quota(ns, used, new)?;
        }
        Ok((changed, new))
    }

    /// A delete's checks: the object exists; a namespace is empty; a claim
    /// is mounted by nothing.
    fn check_delete(&self, key: &ObjectKey) -> Result<(), ApiError> {
        if !self.objects.contains_key(key) {
            return Err(not_found(key));
        }
        if key.kind == Kind::Namespace {
            self.check_namespace_empty(&key.name)?;
        }
        if key.kind == Kind::PersistentVolumeClaim
            && let Some(user) = self.claim_user(key)
        {
            return Err(ApiError::Invalid(format!(
                "persistentvolumeclaim {} is in use by {user}",
                key.name
            )));
        }
        Ok(())
    }

    fn delete<C: Context>(&mut self, key: &ObjectKey, ctx: &mut C) -> Result<u64, ApiError> {
        self.check_delete(key)?;
        if key.kind == Kind::Namespace {
            self.namespaces.remove(&key.name);
            self.usage.remove(&key.name);
        }
        let object = self.objects.remove(key).expect("checked above");
        self.tombstones.insert(key.clone());
        self.charge(key, Usage::default());
        self.charges.remove(key);
        self.release_addresses(&object, ctx);
        self.rv += 1;
        let rv = self.rv;
        self.feed(rv, ctx.now(), &object, ChangeKind::Deleted);
        self.publish(rv, &object, true, ctx);
        // The garbage collector: a Deployment's ReplicaSets, and a
        // ReplicaSet's pods, go with it.
        let owned_kind = match key.kind {
            Kind::Deployment => Some(Kind::ReplicaSet),
            Kind::ReplicaSet => Some(Kind::Pod),
            _ => None,
        };
        if let Some(kind) = owned_kind {
            let owned: Vec<ObjectKey> = self
                .objects
                .iter()
                .filter(|(k, o)| {
                    k.kind == kind
                        && k.namespace == key.namespace
                        && o.meta.owner.as_deref() == Some(key.name.as_str())
                })
                .map(|(k, _)| k.clone())
                .collect();
            for object in owned {
                let _ = self.delete(&object, ctx);
            }
        }
        Ok(rv)
    }

    /// A namespace the administrator created: no limits, classes or
    /// permissions (those are set in vCenter), so only the administrator
    /// may use it.
    fn add_namespace(&mut self, name: &str) {
        (self.namespaces).insert(name.to_string(), NamespaceConfig::new(name));
        self.usage.insert(name.to_string(), Usage::default());
    }

    /// A namespace that holds objects is not deleted (its deletion is not
    /// cascaded).
    fn check_namespace_empty(&self, name: &str) -> Result<(), ApiError> {
        let held = (self.objects.keys())
            .filter(|k| !k.kind.cluster_scoped() && k.namespace == name)
            .count()
            + (self.pending_keys.iter())
                .filter(|k| !k.kind.cluster_scoped() && k.namespace == name)
                .count();
        if held > 0 {
            return Err(ApiError::Invalid(format!(
                "namespace {name} still holds {held} object(s): delete them first (pacsim does not cascade a namespace's deletion)"
            )));
        }
        Ok(())
    }

    /// The pod or VM (not terminated) that mounts claim `key`, if any.
    fn claim_user(&self, key: &ObjectKey) -> Option<String> {
        self.objects.values().find_map(|o| {
            if o.meta.namespace != key.namespace {
                return None;
            }
            let uses = match &o.body {
                Body::Pod(p) => {
                    !matches!(p.phase, PodPhase::Succeeded | PodPhase::Failed)
                        && p.spec.volumes.contains(&key.name)
                }
                Body::VirtualMachine(v) => v.volumes.contains(&key.name),
                _ => false,
            };
            uses.then(|| format!("{}/{}", o.kind().name(), o.meta.name))
        })
    }

    fn release_addresses<C: Context>(&self, object: &Object, ctx: &mut C) {
        let namespace = object.meta.namespace.clone();
        let release = match &object.body {
            Body::Pod(p) => p.ip.clone().map(|ip| SupMsg::IpRelease {
                namespace,
                ip,
                vip: false,
            }),
            Body::VirtualMachine(v) => v.ip.clone().map(|ip| SupMsg::IpRelease {
                namespace,
                ip,
                vip: false,
            }),
            Body::Service(s) => s.vip.clone().map(|ip| SupMsg::IpRelease {
                namespace,
                ip,
                vip: true,
            }),
            Body::PersistentVolumeClaim(c) => {
                c.datastore.clone().map(|datastore| SupMsg::VolumeRelease {
                    datastore,
                    bytes: c.bytes,
                })
            }
            _ => None,
        };
        if let Some(msg) = release {
            let to = match msg {
                SupMsg::VolumeRelease { .. } => self.addrs[Part::Storage],
                _ => self.addrs[Part::Network],
            };
            ctx.send(to, SimDuration::ZERO, msg.event());
        }
    }

    /// A terminated pod stops counting against its namespace and gives its
    /// address back.
    fn pod_phase_changed<C: Context>(&mut self, key: &ObjectKey, phase: PodPhase, ctx: &mut C) {
        let Some(object) = self.objects.get(key) else {
            return;
        };
        let now = ctx.now();
        match phase {
            PodPhase::Running => {
                let after = now.since(object.meta.creation);
                ctx.note(Note::Sup(SupNote::PodReady { after }));
            }
            PodPhase::Succeeded | PodPhase::Failed => {
                ctx.note(Note::Sup(SupNote::PodFinished {
                    failed: phase == PodPhase::Failed,
                }));
                let charge = admission::charge(object, &self.objects);
                let released = object.clone();
                self.charge(key, charge);
                self.release_addresses(&released, ctx);
                if let Some(Body::Pod(p)) = self.objects.get_mut(key).map(|o| &mut o.body) {
                    p.ip = None;
                }
            }
            PodPhase::Pending => {}
        }
    }

    /// Patches a stored object with `f` (system components' status writes).
    fn patch<C: Context>(
        &mut self,
        key: &ObjectKey,
        ctx: &mut C,
        f: impl FnOnce(&mut Object),
    ) -> Result<u64, ApiError> {
        // In place: a status write is most of the store's traffic, and a
        // copy out and an insert back cost a clone and a second search.
        f(self.objects.get_mut(key).ok_or_else(|| not_found(key))?);
        Ok(self.stamp(key, ChangeKind::Modified, ctx))
    }

    /// Sets what `key` counts against its namespace.
    fn charge(&mut self, key: &ObjectKey, charge: Usage) {
        let old = self.charges.insert(key.clone(), charge).unwrap_or_default();
        if let Some(u) = self.usage.get_mut(&key.namespace) {
            *u = u.minus(old).plus(charge);
        }
    }

    /// Writes an object with the next resourceVersion and tells its watchers.
    fn store<C: Context>(&mut self, key: ObjectKey, object: Object, ctx: &mut C) -> u64 {
        let kind = match self.objects.insert(key.clone(), object) {
            true => ChangeKind::Added,
            false => ChangeKind::Modified,
        };
        self.stamp(&key, kind, ctx)
    }

    /// Gives the stored object `key` the next resourceVersion (and its
    /// creation time, when it has none), and tells the change feed and
    /// the watchers.
    fn stamp<C: Context>(&mut self, key: &ObjectKey, kind: ChangeKind, ctx: &mut C) -> u64 {
        self.rv += 1;
        let ApiServer {
            objects,
            rv,
            feed,
            addrs,
            control_plane,
            ..
        } = self;
        let object = objects.get_mut(key).expect("stamped after it is stored");
        object.meta.resource_version = *rv;
        if object.meta.creation == crate::model::SimTime::ZERO {
            object.meta.creation = ctx.now();
        }
        if let Some(feed) = feed {
            feed.push(Change {
                rv: *rv,
                at: ctx.now(),
                object: object.clone(),
                kind,
            });
        }
        publish(addrs, control_plane, *rv, object, false, ctx);
        *rv
    }

    fn publish<C: Context>(&self, rv: u64, object: &Object, deleted: bool, ctx: &mut C) {
        publish(&self.addrs, &self.control_plane, rv, object, deleted, ctx);
    }

    /// An informer's list: every object of the kinds `caller` watches, in
    /// key order, as of the current resourceVersion.
    fn list<C: Context>(&self, caller: ActorId, ctx: &mut C) {
        let result = match self.unavailable() {
            Some(e) => Err(e),
            None => {
                let kinds: Vec<Kind> = Kind::ALL
                    .into_iter()
                    .filter(|k| self.addrs.watchers(*k).contains(&caller))
                    .collect();
                Ok(self
                    .objects
                    .values()
                    .filter(|o| kinds.contains(&o.kind()))
                    .cloned()
                    .collect())
            }
        };
        let msg = SupMsg::Listed {
            rv: self.rv,
            result,
        };
        ctx.send(caller, SimDuration::ZERO, msg.event());
    }

    // ---- control plane

    fn place_member<C: Context>(&mut self, member: usize, ctx: &mut C) {
        let Some(m) = self.control_plane.members.get(member) else {
            return;
        };
        let msg = SupMsg::Place {
            vm: m.vm,
            size: self.control_plane.size,
            rule: PlaceRule {
                only: Vec::new(),
                anti_affinity_group: Some(0),
                soft_anti_affinity: false,
                restart: true,
            },
        };
        ctx.send(self.addrs.placement, SimDuration::ZERO, msg.event());
    }

    fn member_placed<C: Context>(
        &mut self,
        vm: crate::model::VmId,
        host: crate::model::HostId,
        ctx: &mut C,
    ) {
        let Some(i) = self.control_plane.member_of(vm) else {
            return;
        };
        let m = &mut self.control_plane.members[i];
        m.host = Some(host);
        if !m.up {
            let generation = m.generation;
            let boot = SimDuration(ctx.sample(&self.control_plane.boot));
            m.boot_done = Some(ctx.now().saturating_add(boot));
            let msg = SupMsg::ControlPlaneBooted {
                member: i as u32,
                generation,
            };
            ctx.send(ctx.me(), boot, msg.event());
        }
    }

    /// After a restart: a member whose boot ended while the process was
    /// down is up now; one still booting gets its timer again.
    fn resume_boots<C: Context>(&mut self, ctx: &mut C) {
        let now = ctx.now();
        for member in 0..self.control_plane.members.len() {
            let m = &self.control_plane.members[member];
            let (Some(done), false) = (m.boot_done, m.up) else {
                continue;
            };
            let generation = m.generation;
            if done <= now {
                self.member_booted(member, generation, ctx);
            } else {
                let msg = SupMsg::ControlPlaneBooted {
                    member: member as u32,
                    generation,
                };
                ctx.send(ctx.me(), done.since(now), msg.event());
            }
        }
    }

    /// After a restart, placement's answer to what it holds of the
    /// control-plane VMs: a `Placed` or `Displaced` sent while the process
    /// was down was lost (and placement ignores the `Place` of a VM it
    /// holds), so a member placed elsewhere meanwhile boots there, and one
    /// placement no longer holds is down until the placement `start` asks
    /// for succeeds.
    fn members_held<C: Context>(&mut self, held: &[(VmId, Option<HostId>)], ctx: &mut C) {
        for member in 0..self.control_plane.members.len() {
            let m = &self.control_plane.members[member];
            let (vm, host) = (m.vm, m.host);
            match held.iter().find(|(v, _)| *v == vm).map(|(_, h)| *h) {
                Some(Some(now_on)) if host != Some(now_on) => {
                    self.member_displaced(vm, ctx);
                    self.member_placed(vm, now_on, ctx);
                }
                Some(Some(_)) => {}
                // Awaiting its HA restart, or gone: down until placed.
                Some(None) | None if host.is_some() => self.member_displaced(vm, ctx),
                Some(None) | None => {}
            }
        }
    }

    fn member_booted<C: Context>(&mut self, member: usize, generation: u64, ctx: &mut C) {
        let was = self.control_plane.available();
        let Some(m) = self.control_plane.members.get_mut(member) else {
            return;
        };
        if m.generation != generation || m.up || m.host.is_none() {
            return;
        }
        m.up = true;
        self.quorum_changed(was, ctx);
    }

    fn member_displaced<C: Context>(&mut self, vm: crate::model::VmId, ctx: &mut C) {
        let Some(i) = self.control_plane.member_of(vm) else {
            return;
        };
        let was = self.control_plane.available();
        self.control_plane.down(i);
        self.quorum_changed(was, ctx);
    }

    /// The member's guest failed; VM monitoring reboots it in place.
    fn member_rebooting<C: Context>(&mut self, member: usize, ctx: &mut C) {
        let Some(m) = self.control_plane.members.get(member) else {
            return;
        };
        let (vm, host) = (m.vm, m.host);
        let was = self.control_plane.available();
        self.control_plane.down(member);
        self.quorum_changed(was, ctx);
        if let Some(host) = host {
            // Still placed on its host: the reboot is a boot there.
            self.member_placed(vm, host, ctx);
        }
    }

    /// Lost for good (no host with room, or never placed): try again later.
    fn member_lost<C: Context>(&mut self, vm: crate::model::VmId, ctx: &mut C) {
        let Some(i) = self.control_plane.member_of(vm) else {
            return;
        };
        let was = self.control_plane.available();
        self.control_plane.down(i);
        self.quorum_changed(was, ctx);
        let msg = SupMsg::ApiServerTimer(ApiServerTimer::PlaceMember { member: i as u32 });
        ctx.send(ctx.me(), CONTROL_PLANE_RETRY, msg.event());
    }

    fn quorum_changed<C: Context>(&mut self, was: bool, ctx: &mut C) {
        let now = self.control_plane.available();
        if was == now {
            return;
        }
        ctx.note(Note::Sup(SupNote::ControlPlane { available: now }));
        if now {
            // Back: the controllers' caches may be stale, so every object is
            // sent again (a relist) and they reconcile from there.
            let rv = self.rv;
            for object in self.objects.values() {
                self.publish(rv, object, false, ctx);
            }
        }
    }
}

impl Actor for ApiServer {
    fn handle<C: Context>(&mut self, event: Event, ctx: &mut C) {
        match event {
            Event::Start => self.start(ctx),
            Event::Supervisor(msg) => self.handle_msg(*msg, ctx),
            Event::VmLost { vm } => self.member_lost(vm, ctx),
            other => ctx.note(Note::Unexpected {
                actor: "api-server",
                kind: other.kind(),
            }),
        }
    }
}

/// Tells `object`'s watchers of its change, while the control plane is up.
fn publish<C: Context>(
    addrs: &Addrs,
    control_plane: &ControlPlane,
    rv: u64,
    object: &Object,
    deleted: bool,
    ctx: &mut C,
) {
    if !control_plane.available() {
        return;
    }
    let watchers = addrs.watchers(object.kind());
    if watchers.is_empty() {
        return;
    }
    let shared = std::sync::Arc::new(object.clone());
    for watcher in watchers {
        let msg = SupMsg::Changed {
            rv,
            object: shared.clone(),
            deleted,
        };
        ctx.send(watcher, SimDuration::ZERO, msg.event());
    }
}

fn not_found(key: &ObjectKey) -> ApiError {
    ApiError::NotFound(format!("{} {} not found", key.kind.resource(), key.name))
}

#[cfg(test)]
pub(crate) mod tests;
