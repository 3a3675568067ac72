//! VM Operator kinds (vmoperator.vmware.com): VirtualMachine,
//! VirtualMachineClass and VirtualMachineImage.

use super::super::error::{Diag, PResult};
use super::super::read::{self, Fields};
use super::super::units;
use super::super::yaml::Node;
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
/// VM volume sources other than a claim.
pub(crate) const VM_VOLUME_IGNORED: &[&str] = &["vsphereVolume"];
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
const POWER_STATES: [&str; 3] = ["PoweredOn", "PoweredOff", "Suspended"];

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

pub(crate) fn parse_vm(node: &Node, path: &str) -> PResult<VirtualMachine> {
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
    let storage_class = name("storageClass")?;
    let power_state = match f.opt("powerState") {
        Some(n) => match read::choice(n, "power state", &f.sub("powerState"), &POWER_STATES)? {
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

/// spec.hardware {cpus, memory} and the reservation in
/// spec.policies.resources.requests (zero: best-effort).
pub(crate) fn parse_class(node: &Node, path: &str) -> PResult<VirtualMachineClass> {
    let f = Fields::with_ignored(node, path, &["hardware", "policies"], CLASS_SPEC_IGNORED)?;
    let hf = Fields::with_ignored(
        f.req("hardware")?,
        &f.sub("hardware"),
        &["cpus", "memory"],
        HARDWARE_IGNORED,
    )?;
    let max_cpus = crate::model::limits::MAX_CPU_MILLIS / 1000;
    let cpus = read::positive_u64(hf.req("cpus")?, &hf.sub("cpus"), max_cpus)?;
    let mem_node = hf.req("memory")?;
    let memory = read::unit(mem_node, "a memory quantity", &hf.sub("memory"), k8s_memory)?;
    let memory_bytes = read::positive(mem_node, &hf.sub("memory"), memory)?;
    let hardware = Resources {
        cpu_millis: cpus.saturating_mul(1000),
        memory_bytes,
        gpu_millis: 0,
    };
    let requests = match f.opt("policies") {
        Some(p) => reservation(p, &f.sub("policies"), hardware)?,
        None => Resources::default(),
    };
    Ok(VirtualMachineClass { hardware, requests })
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
