//! The `supervisor:` section: the control plane, Spherelets, NSX and CNS
//! settings, users, namespaces, and the cluster-scoped objects that exist
//! from the start. Every name is resolved here (hosts, datastores,
//! policies, classes, users), so the runtime never looks one up and fails.
//! `storage`: datastores and policies; `access`: users, namespaces and
//! their permissions.

mod access;
pub mod config;
mod guest;
mod storage;

use super::error::{Diag, PResult};
use super::include::Includes;
use super::manifests::{self, Scope};
use super::model::{Datacenter, Location};
use super::notices;
use super::read::{self, Fields};
use super::units;
use super::yaml::{Node, NodeKind};
use crate::api::objects::{Object, Taint};
use crate::model::{Dist, HostId, Resources, SimDuration};
use config::*;

/// Control-plane VMs of one Supervisor (the real one runs 3).
const MAX_CONTROL_PLANE_VMS: u64 = 99;

const SEC: u64 = 1_000_000_000;
const GI: u64 = 1 << 30;

/// Image pull plus CRX boot when `pod_start_latency` is not given: a few
/// seconds, as vSphere Pods start in practice (not published; configurable).
pub const DEFAULT_POD_START_LATENCY: Dist = Dist::Uniform {
    low: 2 * SEC,
    high: 8 * SEC,
};

pub(crate) fn parse_supervisor(
    node: &Node,
    dc: &Datacenter,
    includes: &Includes,
) -> PResult<SupervisorConfig> {
    let f = Fields::new(
        node,
        "supervisor",
        &[
            "control_plane",
            "spherelet",
            "network",
            "datastores",
            "storage_policies",
            "users",
            "node_taints",
            "namespaces",
            "objects",
            "guest_clusters",
            "cluster",
        ],
    )?;
    let cluster = super::drs::cluster_of(&f, dc, "the Supervisor is enabled on")?;
    let hosts_in_cluster = dc.cluster_hosts(cluster).len();
    let control_plane = control_plane(f.opt("control_plane"), f.loc, hosts_in_cluster)?;
    let spherelet = spherelet(f.opt("spherelet"))?;
    let hosts: Vec<&str> = dc.hosts.iter().map(|h| h.name.as_str()).collect();
    let datastores = match f.opt("datastores") {
        Some(n) => storage::datastores(n, &hosts, dc.cluster_hosts(cluster))?,
        None => Vec::new(),
    };
    let storage_policies = match f.opt("storage_policies") {
        Some(n) => storage::storage_policies(n, &datastores)?,
        None => Vec::new(),
    };
    let users = match f.opt("users") {
        Some(n) => access::users(n)?,
        None => Vec::new(),
    };
    let node_taints = match f.opt("node_taints") {
        Some(n) => node_taints(n, &hosts)?,
        None => Vec::new(),
    };
    let policy_names: Vec<String> = storage_policies.iter().map(|p| p.name.clone()).collect();
    let objects = match f.opt("objects") {
        Some(n) => objects(n, &policy_names, includes)?,
        None => Vec::new(),
    };
    let namespaces = match f.opt("namespaces") {
        Some(n) => access::namespaces(n, &objects, &users)?,
        None => Vec::new(),
    };
    let network = network(f.opt("network"), namespaces.len())?;
    Ok(SupervisorConfig {
        control_plane,
        spherelet,
        network,
        datastores,
        storage_policies,
        users,
        namespaces,
        node_taints,
        objects,
        guest_clusters: guest::guest_clusters(f.opt("guest_clusters"))?,
        cluster,
    })
}

fn control_plane(
    node: Option<&Node>,
    parent: Location,
    hosts: usize,
) -> PResult<ControlPlaneConfig> {
    let mut cp = ControlPlaneConfig {
        vms: 3,
        size: Resources {
            cpu_millis: 4000,
            memory_bytes: 16 * GI,
            gpu_millis: 0,
        },
        boot: Dist::Fixed(120 * SEC),
    };
    let mut at = parent;
    if let Some(node) = node {
        let path = "supervisor.control_plane";
        let f = Fields::new(node, path, &["vms", "cpu", "memory", "boot"])?;
        at = node.loc;
        if let Some(n) = f.opt("vms") {
            cp.vms = read::positive_u64(n, &f.sub("vms"), MAX_CONTROL_PLANE_VMS)? as u32;
            at = n.loc;
        }
        if let Some(n) = f.opt("cpu") {
            let v = read::unit(n, "a cpu quantity", &f.sub("cpu"), units::parse_cpu)?;
            cp.size.cpu_millis = read::positive(n, &f.sub("cpu"), v)?;
        }
        if let Some(n) = f.opt("memory") {
            let v = read::unit(
                n,
                "a memory quantity",
                &f.sub("memory"),
                units::parse_memory,
            )?;
            cp.size.memory_bytes = read::positive(n, &f.sub("memory"), v)?;
        }
        if let Some(n) = f.opt("boot") {
            cp.boot = read::dist(n, &f.sub("boot"))?;
        }
    }
    // Firm anti-affinity: each control-plane VM needs a host of its own.
    if cp.vms as usize > hosts {
        return Err(Diag::new(
            at,
            format!(
                "{} control-plane VMs need as many hosts (one each), but the Supervisor's cluster has {}; set `supervisor.control_plane.vms`",
                cp.vms, hosts
            ),
        ));
    }
    Ok(cp)
}

fn spherelet(node: Option<&Node>) -> PResult<SphereletConfig> {
    let mut s = SphereletConfig {
        heartbeat_interval: SimDuration(10 * SEC),
        node_grace_period: SimDuration(40 * SEC),
        not_ready_toleration: SimDuration(300 * SEC),
        pod_start_latency: DEFAULT_POD_START_LATENCY,
    };
    let Some(node) = node else { return Ok(s) };
    let f = Fields::new(
        node,
        "supervisor.spherelet",
        &[
            "heartbeat_interval",
            "node_grace_period",
            "not_ready_toleration",
            "pod_start_latency",
        ],
    )?;
    let duration = |key: &str| -> PResult<Option<(SimDuration, &Node)>> {
        f.opt(key)
            .map(|n| read::duration(n, &f.sub(key)).map(|d| (SimDuration(d), n)))
            .transpose()
    };
    if let Some((d, n)) = duration("heartbeat_interval")? {
        if d.0 == 0 {
            return Err(Diag::new(
                n.loc,
                "`heartbeat_interval` must be greater than zero",
            ));
        }
        s.heartbeat_interval = d;
    }
    if let Some((d, _)) = duration("node_grace_period")? {
        s.node_grace_period = d;
    }
    // A grace period no longer than one heartbeat would mark healthy nodes
    // NotReady between two heartbeats.
    if s.node_grace_period <= s.heartbeat_interval {
        let at = f
            .opt("node_grace_period")
            .or(f.opt("heartbeat_interval"))
            .map_or(f.loc, |n| n.loc);
        return Err(Diag::new(
            at,
            format!(
                "`node_grace_period` ({}s) must be longer than `heartbeat_interval` ({}s)",
                s.node_grace_period.0 as f64 / SEC as f64,
                s.heartbeat_interval.0 as f64 / SEC as f64
            ),
        ));
    }
    if let Some((d, _)) = duration("not_ready_toleration")? {
        s.not_ready_toleration = d;
    }
    if let Some(n) = f.opt("pod_start_latency") {
        s.pod_start_latency = read::dist(n, &f.sub("pod_start_latency"))?;
    }
    Ok(s)
}

/// The namespace network when none is given: a /20, as vCenter proposes.
const DEFAULT_NETWORK_SIZE: u64 = 4096;

/// Addresses for one subnet per namespace.
fn fitting(net: &NetworkConfig, namespaces: usize) -> u64 {
    net.segment_size as u64 * namespaces as u64
}

/// `10.244.0.0/20`: its first address and size; the address must start
/// the block.
fn cidr(node: &Node, field: &str) -> PResult<([u8; 4], u64)> {
    let text = read::string(node, field)?;
    let bad = |why: &str| Diag::new(node.loc, format!("`{field}: {text}`: {why}"));
    let (ip, prefix) = text
        .split_once('/')
        .ok_or_else(|| bad("expected a CIDR block like `10.244.0.0/20`"))?;
    let prefix: u32 = prefix
        .parse()
        .ok()
        .filter(|p| (8..=30).contains(p))
        .ok_or_else(|| bad("the prefix length must be 8 to 30"))?;
    let octets: Vec<u8> = ip.split('.').filter_map(|o| o.parse().ok()).collect();
    let [a, b, c, d] = octets[..] else {
        return Err(bad("expected an IPv4 address before the `/`"));
    };
    let size = 1u64 << (32 - prefix);
    if !(u32::from_be_bytes([a, b, c, d]) as u64).is_multiple_of(size) {
        return Err(bad("the address is not the start of its block"));
    }
    Ok(([a, b, c, d], size))
}

fn network(node: Option<&Node>, namespaces: usize) -> PResult<NetworkConfig> {
    let mut net = NetworkConfig {
        segment_size: 16,
        pod_cidr_base: [10, 244, 0, 0],
        network_size: DEFAULT_NETWORK_SIZE,
        vip_base: [192, 168, 100, 10],
        vip_count: 16,
    };
    let Some(node) = node else {
        net.network_size = net.network_size.max(fitting(&net, namespaces));
        return Ok(net);
    };
    let f = Fields::new(
        node,
        "supervisor.network",
        &[
            "segment_size",
            "subnet_prefix",
            "pod_cidr",
            "namespace_network",
            "vip_pool",
        ],
    )?;
    for (a, b) in [
        ("segment_size", "subnet_prefix"),
        ("pod_cidr", "namespace_network"),
    ] {
        if let (Some(_), Some(k)) = (f.key(a), f.key(b)) {
            return Err(Diag::new(
                k.loc,
                format!("`{b}` and `{a}` say the same thing; give one"),
            ));
        }
    }
    if let Some(n) = f.opt("subnet_prefix") {
        let prefix = read::int_in(n, &f.sub("subnet_prefix"), 16, 30)?;
        net.segment_size = 1 << (32 - prefix);
    }
    if let Some(n) = f.opt("segment_size") {
        let size = read::u64_value(n, &f.sub("segment_size"))?;
        if !(4..=1 << 16).contains(&size) || !size.is_power_of_two() {
            return Err(Diag::new(
                n.loc,
                format!(
                    "`segment_size` must be a power of two from 4 to 65536 (16 is a /28), found `{size}`"
                ),
            ));
        }
        net.segment_size = size as u32;
    }
    let cidr_node = f.opt("pod_cidr").or(f.opt("namespace_network"));
    let mut explicit_size = None;
    if let Some(n) = f.opt("pod_cidr") {
        net.pod_cidr_base = ipv4(n, &f.sub("pod_cidr"))?;
    }
    if let Some(n) = f.opt("namespace_network") {
        let (base, size) = cidr(n, &f.sub("namespace_network"))?;
        net.pod_cidr_base = base;
        explicit_size = Some((size, n));
    }
    // Segments are carved from the base in namespace order; each must be a
    // real subnet, so the base is aligned and the last one fits in IPv4.
    let base = u32::from_be_bytes(net.pod_cidr_base) as u64;
    let seg = net.segment_size as u64;
    let at = cidr_node.map_or(f.loc, |n| n.loc);
    if !base.is_multiple_of(seg) {
        return Err(Diag::new(
            at,
            format!(
                "`pod_cidr` must be a multiple of `segment_size` ({seg} addresses), to start a subnet"
            ),
        ));
    }
    if base + seg * namespaces as u64 > 1 << 32 {
        return Err(Diag::new(
            at,
            format!(
                "{namespaces} namespace segments of {seg} addresses do not fit above `pod_cidr`"
            ),
        ));
    }
    net.network_size = match explicit_size {
        Some((size, n)) => {
            if size < seg.max(fitting(&net, namespaces)) {
                return Err(Diag::new(
                    n.loc,
                    format!(
                        "`namespace_network` holds {} subnets of {seg} addresses; the {namespaces} namespaces need one each",
                        size / seg
                    ),
                ));
            }
            size
        }
        // Never past the end of IPv4.
        None => DEFAULT_NETWORK_SIZE
            .max(fitting(&net, namespaces))
            .min((1 << 32) - base),
    };
    if let Some(pool) = f.opt("vip_pool") {
        let pf = Fields::new(pool, &f.sub("vip_pool"), &["first", "count"])?;
        if let Some(n) = pf.opt("first") {
            net.vip_base = ipv4(n, &pf.sub("first"))?;
        }
        if let Some(n) = pf.opt("count") {
            let count = read::positive_u64(n, &pf.sub("count"), 1 << 32)?;
            let first = u32::from_be_bytes(net.vip_base) as u64;
            if first + count > 1 << 32 {
                return Err(Diag::new(n.loc, "the VIP pool runs past 255.255.255.255"));
            }
            net.vip_count = count as u32;
        }
    }
    Ok(net)
}

/// `10.244.0.0`: four decimal octets.
fn ipv4(node: &Node, field: &str) -> PResult<[u8; 4]> {
    let text = read::scalar(node, "an IPv4 address", field)?;
    let octets: Vec<Option<u8>> = text.split('.').map(|o| o.parse().ok()).collect();
    match octets.as_slice() {
        [Some(a), Some(b), Some(c), Some(d)] => Ok([*a, *b, *c, *d]),
        _ => Err(Diag::new(
            node.loc,
            format!("expected an IPv4 address like `10.244.0.0` for `{field}`, found `{text}`"),
        )),
    }
}

/// A unique name in a list of named entries; `kind` names the entries.
fn unique(node: &Node, kind: &str, name: &str, seen: &[&str]) -> PResult<()> {
    if seen.contains(&name) {
        return Err(Diag::new(
            node.loc,
            format!("duplicate {kind} name `{name}`"),
        ));
    }
    Ok(())
}

/// Host names resolved to ids, in host order, each at most once.
fn host_list(node: &Node, field: &str, hosts: &[&str]) -> PResult<Vec<HostId>> {
    let mut ids = Vec::new();
    for n in read::non_empty_seq(
        node,
        field,
        &format!("`{field}` must list at least one host"),
    )? {
        let name = read::string(n, field)?;
        let id = HostId(read::resolve(n, "host", &name, hosts)? as u32);
        if ids.contains(&id) {
            return Err(Diag::new(n.loc, format!("host `{name}` is listed twice")));
        }
        ids.push(id);
    }
    ids.sort();
    Ok(ids)
}

fn node_taints(node: &Node, hosts: &[&str]) -> PResult<Vec<(HostId, Taint)>> {
    let mut out = Vec::new();
    for (i, item) in read::seq(node, "supervisor.node_taints")?
        .iter()
        .enumerate()
    {
        let path = format!("supervisor.node_taints[{i}]");
        let f = Fields::new(item, &path, &["hosts", "key", "value", "effect"])?;
        let ids = host_list(f.req("hosts")?, &f.sub("hosts"), hosts)?;
        let key_node = f.req("key")?;
        let key = read::string(key_node, &f.sub("key"))?;
        let value = f
            .opt("value")
            .map(|n| read::string(n, &f.sub("value")))
            .transpose()?
            .unwrap_or_default();
        let effect = manifests::taint_effect(f.req("effect")?, &f.sub("effect"))?;
        for id in ids {
            out.push((
                id,
                Taint {
                    key: key.clone(),
                    value: value.clone(),
                    effect,
                },
            ));
        }
    }
    Ok(out)
}

/// Manifests written inline or `- include: file.yaml`, cluster-scoped
/// only, each object at most once.
fn objects(node: &Node, policies: &[String], includes: &Includes) -> PResult<Vec<Object>> {
    let scope = Scope {
        guest: false,
        any_namespace: false,
        namespaces: &[],
        storage_policies: policies,
        cluster_scoped_only: true,
        default_namespace: None,
    };
    let mut out: Vec<Object> = Vec::new();
    let mut add = |obj: Object, at: &Node, file: Option<&str>| -> PResult<()> {
        if out.iter().any(|o| o.key() == obj.key()) {
            let d = Diag::new(at.loc, format!("`{}` is declared twice", obj.key()));
            return Err(match file {
                Some(f) => d.located_in(f),
                None => d,
            });
        }
        out.push(obj);
        Ok(())
    };
    for (i, item) in read::seq(node, "supervisor.objects")?.iter().enumerate() {
        if is_include(item) {
            let f = Fields::new(item, &format!("supervisor.objects[{i}]"), &["include"])?;
            let inc = includes.load(f.req("include")?, &f.sub("include"))?;
            notices::in_file(&inc.file, || {
                for doc in &inc.docs {
                    let parsed = manifests::parse_manifest(doc, &scope)
                        .map_err(|d| d.located_in(&inc.file))?;
                    if let Some(obj) = parsed {
                        add(obj, doc, Some(&inc.file))?;
                    }
                }
                Ok::<(), Diag>(())
            })?;
        } else if let Some(obj) = manifests::parse_manifest(item, &scope)? {
            add(obj, item, None)?;
        }
    }
    Ok(out)
}

/// `{include: path}` rather than a manifest.
pub(crate) fn is_include(node: &Node) -> bool {
    matches!(&node.kind, NodeKind::Map(e) if e.iter().any(|(k, _)| k.as_scalar() == Some("include")))
}

/// Faults of the Supervisor's parts (parsed with the other faults) need a
/// Supervisor, and must name parts it has; otherwise they would be silently
/// ignored at run time.
pub(crate) fn check_faults(
    faults: &[SupervisorFault],
    supervisor: Option<&SupervisorConfig>,
) -> PResult<()> {
    for f in faults {
        let Some(sup) = supervisor else {
            return Err(Diag::new(
                f.location,
                "this fault hits a part of the Supervisor, but the scenario has no `supervisor:` section",
            ));
        };
        match &f.kind {
            SupervisorFaultKind::Datastore(name) => {
                let names: Vec<&str> = sup.datastores.iter().map(|d| d.name.as_str()).collect();
                if !names.contains(&name.as_str()) {
                    return Err(Diag::new(
                        f.location,
                        format!(
                            "unknown datastore `{name}` in this `datastore-failure`; declared under `supervisor.datastores`: {}{}",
                            if names.is_empty() {
                                "none".to_string()
                            } else {
                                super::error::backticked(names.iter().copied())
                            },
                            super::error::suggestion(name, names.iter().copied())
                        ),
                    ));
                }
            }
            SupervisorFaultKind::ControlPlaneVm(member) if *member >= sup.control_plane.vms => {
                return Err(Diag::new(
                    f.location,
                    format!(
                        "`member: {member}` is not a control-plane VM: members are numbered from 0 to {}",
                        sup.control_plane.vms - 1
                    ),
                ));
            }
            _ => {}
        }
    }
    Ok(())
}
