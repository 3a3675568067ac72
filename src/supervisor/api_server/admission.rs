//! Pure admission rules of the API server: what a create or update would
//! charge against its namespace's limits, and whether the objects it names
//! exist and are allowed there. No actor state, no messages: the API server
//! calls these with its store.

use crate::api::msg::ApiError;
use crate::api::objects::{Body, Kind, Object, ObjectKey, PodPhase, PodSpec};
use crate::scenario::NamespaceConfig;
use std::collections::BTreeSet;

/// What an object counts against its namespace's limits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    pub cpu_millis: u64,
    pub memory_bytes: u64,
    pub storage_bytes: u64,
}

/// `cpu 4, memory 16Gi, storage 100Gi`, in the units of the quota messages.
impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "cpu {}, memory {}, storage {}",
            format_cpu(self.cpu_millis),
            format_bytes(self.memory_bytes),
            format_bytes(self.storage_bytes)
        )
    }
}

impl Usage {
    /// Saturating: a namespace without limits may hold more than a u64
    /// counts (150,000 pods of 8 PiB), and its total is only shown.
    pub fn plus(self, o: Usage) -> Usage {
        Usage {
            cpu_millis: self.cpu_millis.saturating_add(o.cpu_millis),
            memory_bytes: self.memory_bytes.saturating_add(o.memory_bytes),
            storage_bytes: self.storage_bytes.saturating_add(o.storage_bytes),
        }
    }

    pub fn minus(self, o: Usage) -> Usage {
        Usage {
            cpu_millis: self.cpu_millis.saturating_sub(o.cpu_millis),
            memory_bytes: self.memory_bytes.saturating_sub(o.memory_bytes),
            storage_bytes: self.storage_bytes.saturating_sub(o.storage_bytes),
        }
    }
}

/// The charge of `object`, as a ResourceQuota counts it: a pod's requests
/// (its limits where it gives no requests) until it terminates; a VM's
/// class hardware (a resource pool limit caps what the VM may use, not what
/// it reserves); a claim's storage.
pub fn charge(object: &Object, store: &super::Store) -> Usage {
    match &object.body {
        Body::Pod(pod) => {
            if matches!(pod.phase, PodPhase::Succeeded | PodPhase::Failed) {
                return Usage::default();
            }
            let r = crate::supervisor::scheduling::effective_requests(&pod.spec);
            Usage {
                cpu_millis: r.cpu_millis,
                memory_bytes: r.memory_bytes,
                storage_bytes: 0,
            }
        }
        Body::VirtualMachine(vm) => {
            let key = ObjectKey::new(Kind::VirtualMachineClass, "", &vm.class_name);
            match store.get(&key).map(|o| &o.body) {
                Some(Body::VirtualMachineClass(c)) => Usage {
                    cpu_millis: c.hardware.cpu_millis,
                    memory_bytes: c.hardware.memory_bytes,
                    storage_bytes: 0,
                },
                _ => Usage::default(),
            }
        }
        Body::PersistentVolumeClaim(pvc) => Usage {
            storage_bytes: pvc.bytes,
            ..Usage::default()
        },
        _ => Usage::default(),
    }
}

/// Refuses a charge that would take `used` past the namespace's limits,
/// naming the first resource that would overflow.
pub fn check_quota(ns: &NamespaceConfig, used: Usage, extra: Usage) -> Result<(), ApiError> {
    let after = used.plus(extra);
    let over = |what: &str,
                limit: Option<u64>,
                used: u64,
                want: u64,
                after: u64,
                fmt: fn(u64) -> String| {
        match limit {
            Some(limit) if want > 0 && after > limit => Some(ApiError::QuotaExceeded(format!(
                "exceeded quota in namespace {}: {what} requested {}, used {}, limited {}",
                ns.name,
                fmt(want),
                fmt(used),
                fmt(limit)
            ))),
            _ => None,
        }
    };
    let refusal = over(
        "cpu",
        ns.cpu_limit_millis,
        used.cpu_millis,
        extra.cpu_millis,
        after.cpu_millis,
        format_cpu,
    )
    .or_else(|| {
        over(
            "memory",
            ns.memory_limit_bytes,
            used.memory_bytes,
            extra.memory_bytes,
            after.memory_bytes,
            format_bytes,
        )
    })
    .or_else(|| {
        over(
            "storage",
            ns.storage_limit_bytes,
            used.storage_bytes,
            extra.storage_bytes,
            after.storage_bytes,
            format_bytes,
        )
    });
    refusal.map_or(Ok(()), Err)
}

pub fn format_cpu(millis: u64) -> String {
    if millis.is_multiple_of(1000) {
        format!("{}", millis / 1000)
    } else {
        format!("{millis}m")
    }
}

pub fn format_bytes(bytes: u64) -> String {
    const UNITS: [(&str, u64); 4] = [
        ("Ti", 1 << 40),
        ("Gi", 1 << 30),
        ("Mi", 1 << 20),
        ("Ki", 1 << 10),
    ];
    for (name, size) in UNITS {
        if bytes >= size && bytes.is_multiple_of(size) {
            return format!("{}{name}", bytes / size);
        }
    }
    format!("{bytes}")
}

/// Checks the references of a new object: the classes, images, storage
/// classes and claims it names exist and are allowed in its namespace.
/// `in_flight`: objects whose create was accepted and waits for NSX or CNS
/// (a claim being provisioned); they count as existing, so that a file's
/// objects can refer to the ones before them, as the file order promises.
pub fn check_references(
    object: &Object,
    ns: Option<&NamespaceConfig>,
    store: &super::Store,
    in_flight: &BTreeSet<ObjectKey>,
) -> Result<(), ApiError> {
    let exists = |kind: Kind, namespace: &str, name: &str| {
        let key = ObjectKey::new(kind, namespace, name);
        store.contains_key(&key) || in_flight.contains(&key)
    };
    let namespace = &object.meta.namespace;
    let claims_exist = |claims: &[String]| -> Result<(), ApiError> {
        match claims
            .iter()
            .find(|c| !exists(Kind::PersistentVolumeClaim, namespace, c))
        {
            Some(c) => Err(ApiError::Invalid(format!(
                "persistentvolumeclaim {c} not found in namespace {namespace}"
            ))),
            None => Ok(()),
        }
    };
    let storage_allowed = |class: &str, ns: &NamespaceConfig| -> Result<(), ApiError> {
        if !exists(Kind::StorageClass, "", class) {
            return Err(ApiError::Invalid(format!("storageclass {class} not found")));
        }
        if !ns.storage_classes.iter().any(|c| c == class) {
            return Err(ApiError::Invalid(format!(
                "storageclass {class} is not assigned to namespace {}",
                ns.name
            )));
        }
        Ok(())
    };
    match &object.body {
        Body::Pod(pod) => claims_exist(&pod.spec.volumes),
        Body::ReplicaSet(rs) => claims_exist(&rs.template.volumes),
        Body::Deployment(d) => claims_exist(&d.template.volumes),
        Body::VirtualMachine(vm) => {
            let ns = ns.expect("namespaced objects have a namespace");
            if !exists(Kind::VirtualMachineClass, "", &vm.class_name) {
                return Err(ApiError::Invalid(format!(
                    "virtualmachineclass {} not found",
                    vm.class_name
                )));
            }
            if !ns.vm_classes.iter().any(|c| c == &vm.class_name) {
                return Err(ApiError::Invalid(format!(
                    "virtualmachineclass {} is not bound to namespace {}",
                    vm.class_name, ns.name
                )));
            }
            if !exists(Kind::VirtualMachineImage, "", &vm.image_name) {
                return Err(ApiError::Invalid(format!(
                    "virtualmachineimage {} not found",
                    vm.image_name
                )));
            }
            storage_allowed(&vm.storage_class, ns)?;
            claims_exist(&vm.volumes)
        }
        Body::PersistentVolumeClaim(pvc) => storage_allowed(
            &pvc.storage_class,
            ns.expect("namespaced objects have a namespace"),
        ),
        // Refused up front rather than as machines that never get VMs: the
        // release's image and every pool's class and storage class.
        Body::TanzuKubernetesCluster(tkc) => {
            let ns = ns.expect("namespaced objects have a namespace");
            if !exists(Kind::VirtualMachineImage, "", &tkc.version) {
                return Err(ApiError::Invalid(format!(
                    "tanzukubernetesrelease {} has no virtualmachineimage of that name",
                    tkc.version
                )));
            }
            for pool in std::iter::once(&tkc.control_plane).chain(&tkc.node_pools) {
                if !ns.vm_classes.iter().any(|c| c == &pool.vm_class)
                    || !exists(Kind::VirtualMachineClass, "", &pool.vm_class)
                {
                    return Err(ApiError::Invalid(format!(
                        "node pool {}: virtualmachineclass {} is not bound to namespace {}",
                        pool.name, pool.vm_class, ns.name
                    )));
                }
                storage_allowed(&pool.storage_class, ns)?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Applies a user's update to the stored object: the parts of the spec a
/// user may change; status stays. Errors name what may not change.
pub fn apply_update(stored: &mut Object, update: &Object) -> Result<(), ApiError> {
    match (&mut stored.body, &update.body) {
        (Body::ReplicaSet(old), Body::ReplicaSet(new)) => {
            old.replicas = new.replicas;
            old.template = new.template.clone();
            old.template_labels = new.template_labels.clone();
            old.annotations = new.annotations.clone();
        }
        (Body::Deployment(old), Body::Deployment(new)) => {
            old.replicas = new.replicas;
            old.template = new.template.clone();
            old.template_labels = new.template_labels.clone();
            old.strategy = new.strategy;
            old.annotations = new.annotations.clone();
            old.paused = new.paused;
        }
        (Body::VirtualMachine(old), Body::VirtualMachine(new)) => {
            old.power_state = new.power_state;
            old.class_name = new.class_name.clone();
        }
        (Body::Service(old), Body::Service(new)) => old.selector = new.selector.clone(),
        (Body::VirtualMachineClass(old), Body::VirtualMachineClass(new)) => *old = new.clone(),
        (Body::VirtualMachineImage(old), Body::VirtualMachineImage(new)) => *old = new.clone(),
        // Version (a rolling upgrade), pools and replicas; status stays.
        (Body::TanzuKubernetesCluster(old), Body::TanzuKubernetesCluster(new)) => {
            old.version = new.version.clone();
            old.control_plane = new.control_plane.clone();
            old.node_pools = new.node_pools.clone();
        }
        // A pod's annotations are metadata, which may change.
        (Body::Pod(old), Body::Pod(new))
            if PodSpec {
                annotations: old.spec.annotations.clone(),
                ..new.spec.clone()
            } == old.spec =>
        {
            old.spec.annotations = new.spec.annotations.clone();
        }
        (Body::Pod(_), _) => {
            return Err(ApiError::Invalid(
                "pod spec is immutable: delete the pod and create it again".into(),
            ));
        }
        // Immutable specs given again unchanged (`kubectl apply` of the
        // same manifest): only the metadata below changes.
        (Body::PersistentVolumeClaim(old), Body::PersistentVolumeClaim(new))
            if (&old.storage_class, old.bytes) == (&new.storage_class, new.bytes) => {}
        (Body::Namespace(_), Body::Namespace(_)) => {}
        (_, _) => {
            return Err(ApiError::Invalid(format!(
                "{} may not be updated",
                stored.kind().resource()
            )));
        }
    }
    stored.meta.labels = update.meta.labels.clone();
    Ok(())
}
