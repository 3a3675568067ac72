//! VM Operator kinds (vmoperator.vmware.com): VirtualMachine,
//! VirtualMachineClass and VirtualMachineImage.

use super::super::error::{Diag, PResult};
use super::super::read::{self, Fields};
use super::super::units;
use super::super::yaml::{Node, NodeKind};
use super::k8s_memory;
use crate::api::objects::*;
use crate::model::Resources;

pub(crate) const VM_SPEC_IGNORED: &[&str] = &[
    "networkInterfaces",
    "network",
    "vmMetadata",
    "bootstrap",
    "readinessProbe",
    "minHardwareVersion",
    "advancedOptions",
    "resourcePolicyName",
    "reserved",
    "instanceUUID",
    "biosUUID",
    "guestID",
    "cdrom",
    "restartMode",
    "suspendMode",
    "powerOffMode",
];
/// VM volume sources other than a claim (the real spelling, `vSphereVolume`).
pub(crate) const VM_VOLUME_IGNORED: &[&str] = &["vSphereVolume"];
pub(crate) const CLASS_SPEC_IGNORED: &[&str] = &[
    "description",
    "displayName",
    "configSpec",
    "controllerName",
    "reservedProfileID",
    "reservedSlots",
];
pub(crate) const HARDWARE_IGNORED: &[&str] = &["devices", "instanceStorage"];
pub(crate) const IMAGE_SPEC_IGNORED: &[&str] = &[
    "type",
    "imageSourceType",
    "imageID",
    "providerRef",
    "productInfo",
    "osInfo",
    "ovfEnv",
    "hwVersion",
    "hardwareVersion",
    "firmware",
];
/// `spec.powerState` as each API version spells it: v1alpha1 in lower
/// camel case, the later versions capitalised.
const POWER_STATES: [&str; 3] = ["PoweredOn", "PoweredOff", "Suspended"];
const POWER_STATES_V1ALPHA1: [&str; 3] = ["poweredOn", "poweredOff", "suspended"];

/// A new VM: Creating, powered off, not placed.
pub(crate) fn new_vm(
    class_name: String,
    image_name: String,
    storage_class: String,
    power_state: PowerState,
    volumes: Vec<String>,
) -> VirtualMachine {
    VirtualMachine {
        class_name,
        image_name,
        storage_class,
        power_state,
        volumes,
        phase: VmPhase::Creating,
        actual_power: PowerState::PoweredOff,
        host: None,
        ip: None,
        reason: None,
    }
}

/// `v1alpha1`: the object's apiVersion is vmoperator.vmware.com/v1alpha1,
/// whose power states are spelled `poweredOn`...
pub(crate) fn parse_vm(node: &Node, path: &str, v1alpha1: bool) -> PResult<VirtualMachine> {
    let f = Fields::with_ignored(
        node,
        path,
        &[
            "className",
            "imageName",
            "storageClass",
            "powerState",
            "volumes",
        ],
        VM_SPEC_IGNORED,
    )?;
    let name = |key: &str| -> PResult<String> {
        let n = f.req(key)?;
        let v = read::string(n, &f.sub(key))?;
        super::check_name(n, &v)?;
        Ok(v)
    };
    let class_name = name("className")?;
    let image_name = name("imageName")?;
    // Optional from v1alpha2 on: the VM then has no storage class, and its
    // create is refused unless the namespace allows one.
    let storage_class = match (v1alpha1, f.opt("storageClass")) {
        (false, None) => String::new(),
        _ => name("storageClass")?,
    };
    let power_state = match f.opt("powerState") {
        Some(n) => match power_state(n, &f.sub("powerState"), v1alpha1)? {
            0 => PowerState::PoweredOn,
            1 => PowerState::PoweredOff,
            _ => PowerState::Suspended,
        },
        None => PowerState::PoweredOn,
    };
    let volumes = f
        .opt("volumes")
        .map(|n| super::pod::claim_volumes(n, &f.sub("volumes"), VM_VOLUME_IGNORED))
        .transpose()?
        .unwrap_or_default();
    Ok(new_vm(
        class_name,
        image_name,
        storage_class,
        power_state,
        volumes,
    ))
}

/// One version's spelling; the other version's is an error that says which
/// apiVersion spells it so.
fn power_state(node: &Node, field: &str, v1alpha1: bool) -> PResult<usize> {
    let (own, other, other_version) = match v1alpha1 {
        true => (POWER_STATES_V1ALPHA1, POWER_STATES, "v1alpha2 and later"),
        false => (POWER_STATES, POWER_STATES_V1ALPHA1, "v1alpha1"),
    };
    let text = read::scalar(node, "a power state", field)?;
    if let Some(i) = other.iter().position(|s| *s == text) {
        return Err(Diag::new(
            node.loc,
            format!(
                "`{field}: {text}` is how {other_version} spells it; this apiVersion's is `{}`",
                own[i]
            ),
        ));
    }
    read::choice(node, "power state", field, &own)
}

/// spec.hardware {cpus, memory} (or, without it, the vSphere config
/// spec's `numCPUs` and `memoryMB`) and the reservation in
/// spec.policies.resources.requests (zero: best-effort).
pub(crate) fn parse_class(node: &Node, path: &str) -> PResult<VirtualMachineClass> {
    let f = Fields::with_ignored(node, path, &["hardware", "policies"], CLASS_SPEC_IGNORED)?;
    let max_cpus = crate::model::limits::MAX_CPU_MILLIS / 1000;
    let hardware = match (f.opt("hardware"), f.opt("configSpec")) {
        (None, Some(config)) => config_spec_hardware(config, &f.sub("configSpec"), max_cpus)?,
        (hardware, _) => {
            let hf = Fields::with_ignored(
                hardware.map_or_else(|| f.req("hardware"), Ok)?,
                &f.sub("hardware"),
                &["cpus", "memory"],
                HARDWARE_IGNORED,
            )?;
            let cpus = read::positive_u64(hf.req("cpus")?, &hf.sub("cpus"), max_cpus)?;
            let mem_node = hf.req("memory")?;
            let memory = read::unit(mem_node, "a memory quantity", &hf.sub("memory"), k8s_memory)?;
            Resources {
                cpu_millis: cpus.saturating_mul(1000),
                memory_bytes: read::positive(mem_node, &hf.sub("memory"), memory)?,
                gpu_millis: 0,
            }
        }
    };
    let requests = match f.opt("policies") {
        Some(p) => reservation(p, &f.sub("policies"), hardware)?,
        None => Resources::default(),
    };
    Ok(VirtualMachineClass { hardware, requests })
}

/// A class given as a vSphere `VirtualMachineConfigSpec` only: its
/// `numCPUs` and `memoryMB` (the rest, devices and all, is not modelled).
fn config_spec_hardware(node: &Node, path: &str, max_cpus: u64) -> PResult<Resources> {
    let NodeKind::Map(entries) = &node.kind else {
        return Err(Diag::new(
            node.loc,
            format!("expected a mapping for `{path}`, found {}", node.describe()),
        ));
    };
    let field = |key: &str| entries.iter().find(|(k, _)| k.as_scalar() == Some(key));
    let (Some((_, cpus)), Some((_, mib))) = (field("numCPUs"), field("memoryMB")) else {
        return Err(Diag::new(
            node.loc,
            format!("a class without `hardware` needs `{path}.numCPUs` and `{path}.memoryMB`"),
        ));
    };
    let cpus = read::positive_u64(cpus, &format!("{path}.numCPUs"), max_cpus)?;
    let max_mib = crate::model::limits::MAX_BYTES >> 20;
    let mib = read::positive_u64(mib, &format!("{path}.memoryMB"), max_mib)?;
    Ok(Resources {
        cpu_millis: cpus * 1000,
        memory_bytes: mib << 20,
        gpu_millis: 0,
    })
}

fn reservation(node: &Node, path: &str, hardware: Resources) -> PResult<Resources> {
    let pf = Fields::new(node, path, &["resources"])?;
    let Some(res) = pf.opt("resources") else {
        return Ok(Resources::default());
    };
    let rf = Fields::with_ignored(res, &pf.sub("resources"), &["requests"], &["limits"])?;
    let Some(req) = rf.opt("requests") else {
        return Ok(Resources::default());
    };
    let q = Fields::new(req, &rf.sub("requests"), &["cpu", "memory"])?;
    let mut out = Resources::default();
    if let Some(n) = q.opt("cpu") {
        out.cpu_millis = read::unit(n, "a cpu quantity", &q.sub("cpu"), units::parse_cpu)?;
        if out.cpu_millis > hardware.cpu_millis {
            return Err(Diag::new(
                n.loc,
                "the cpu reservation is above the class's `hardware.cpus`",
            ));
        }
    }
    if let Some(n) = q.opt("memory") {
        out.memory_bytes = read::unit(n, "a memory quantity", &q.sub("memory"), k8s_memory)?;
        if out.memory_bytes > hardware.memory_bytes {
            return Err(Diag::new(
                n.loc,
                "the memory reservation is above the class's `hardware.memory`",
            ));
        }
    }
    Ok(out)
}

/// Nothing in an image's spec is modelled (its disk size is the
/// `pacsim.io/disk-size` annotation), but typos are still caught.
pub(crate) fn check_image_spec(node: &Node, path: &str) -> PResult<()> {
    Fields::with_ignored(node, path, &[], IMAGE_SPEC_IGNORED).map(|_| ())
}
