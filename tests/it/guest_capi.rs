//! Guest clusters, the Cluster API side: a TanzuKubernetesCluster expanded
//! into machines whose VMs go through the API (quota, NSX, VM Operator),
//! the provisioning timeline from fixed distributions, MachineHealthCheck
//! remediation after a host crash, a rolling upgrade one machine at a
//! time, scaling, and deletion freeing the namespace's quota.

use crate::support::{api, checked, part};
use pacsim::actors::WorldActor;
use pacsim::api::objects::*;
use pacsim::model::SimDuration;
use pacsim::scenario::ADMIN_USER;
use pacsim::scenario::{Scenario, parse_scenario};
use pacsim::supervisor::actors::SupActor;
use pacsim::supervisor::capi::Capi;
use pacsim::supervisor::capi::machine::{Cluster, MachineEvent};

const NS: &str = "team-a";
const MIN: u64 = 60_000_000_000;

/// `hosts` hosts of 16 cores / 64 GiB (DRS, HA restarts VMs), a 1-core
/// Supervisor control plane on esx-01. Classes `small` (2 cores, 8Gi) and
/// `large` (12 cores, 48Gi), guaranteed; images `v1-21` and `v1-22` (the
/// releases); storage class `shared`. Machines: VM boot 1m, kubeadm init
/// 3m, kubeadm join 2m; MachineHealthCheck 5m / startup 10m.
fn scenario(hosts: usize, cpu_limit: &str, workloads: &str, faults: &str) -> Scenario {
    let faults = if faults.is_empty() {
        String::new()
    } else {
        format!("faults:\n{faults}")
    };
    let text = format!(
        "seed: 5
duration: 3h
datacenter:
  host_models: [{{name: r650, cpu: 16, memory: 64Gi}}]
  clusters: [{{name: wcp, hosts: [{{model: r650, count: {hosts}}}]}}]
placement: {{policy: drs}}
supervisor:
  control_plane: {{vms: 1, cpu: 1, memory: 4Gi, boot: 1m}}
  guest_clusters:
    vm_boot: 1m
    kubeadm_init: 3m
    kubeadm_join: 2m
    unhealthy_timeout: 5m
    node_startup_timeout: 10m
  datastores: [{{name: shared, capacity: 10Ti}}]
  storage_policies: [{{name: shared, datastores: [shared]}}]
  objects:
    - apiVersion: vmoperator.vmware.com/v1alpha1
      kind: VirtualMachineClass
      metadata: {{name: small}}
      spec:
        hardware: {{cpus: 2, memory: 8Gi}}
        policies: {{resources: {{requests: {{cpu: 2, memory: 8Gi}}}}}}
    - apiVersion: vmoperator.vmware.com/v1alpha1
      kind: VirtualMachineClass
      metadata: {{name: large}}
      spec:
        hardware: {{cpus: 12, memory: 48Gi}}
        policies: {{resources: {{requests: {{cpu: 12, memory: 48Gi}}}}}}
    - {{apiVersion: vmoperator.vmware.com/v1alpha1, kind: VirtualMachineImage, metadata: {{name: v1-21}}}}
    - {{apiVersion: vmoperator.vmware.com/v1alpha1, kind: VirtualMachineImage, metadata: {{name: v1-22}}}}
    - apiVersion: storage.k8s.io/v1
      kind: StorageClass
      metadata: {{name: shared}}
      provisioner: csi.vsphere.vmware.com
      parameters: {{storagePolicyID: shared}}
  namespaces:
    - name: {NS}
      limits: {{cpu: {cpu_limit}}}
      vm_classes: [small, large]
      storage_classes: [shared]
workloads:
  manifests:
{workloads}{faults}"
    );
    parse_scenario(&text, "<inline>").unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// A TKC `name` (op: object / update) with `cp` control-plane machines of
/// class small and `workers` workers of class `class`, at `version`.
fn tkc(
    at: &str,
    op: &str,
    name: &str,
    version: &str,
    cp: u32,
    workers: u32,
    class: &str,
) -> String {
    format!(
        "    - at: {at}
      user: {ADMIN_USER}
      {op}:
        apiVersion: run.tanzu.vmware.com/v1alpha2
        kind: TanzuKubernetesCluster
        metadata: {{name: {name}, namespace: {NS}}}
        spec:
          topology:
            controlPlane:
              replicas: {cp}
              vmClass: small
              storageClass: shared
              tkr: {{reference: {{name: {version}}}}}
            nodePools:
              - {{name: workers, replicas: {workers}, vmClass: {class}, storageClass: shared}}
"
    )
}

fn delete(at: &str, name: &str) -> String {
    format!(
        "    - {{at: {at}, user: {ADMIN_USER}, delete: {{kind: TanzuKubernetesCluster, namespace: {NS}, name: {name}}}}}\n"
    )
}

fn capi(actors: &[WorldActor]) -> &Capi {
    part(actors, |a| match a {
        SupActor::Capi(x) => Some(x),
        _ => None,
    })
}

fn key(name: &str) -> ObjectKey {
    ObjectKey::new(Kind::TanzuKubernetesCluster, NS, name)
}

fn cluster<'a>(actors: &'a [WorldActor], name: &str) -> &'a Cluster {
    capi(actors)
        .cluster(&key(name))
        .expect("the cluster exists")
}

fn tkc_status(actors: &[WorldActor], name: &str) -> TanzuKubernetesCluster {
    match api(actors).get(&key(name)).map(|o| &o.body) {
        Some(Body::TanzuKubernetesCluster(t)) => t.clone(),
        other => panic!("{name}: {other:?}"),
    }
}

/// Minutes since time 0 of each history entry, with a short label.
fn history(c: &Cluster) -> Vec<(u64, String)> {
    c.history
        .iter()
        .map(|(t, e)| {
            let label = match e {
                MachineEvent::Created(n) => format!("created {n}"),
                MachineEvent::Ready(n) => format!("ready {n}"),
                MachineEvent::Drained(n, d) => format!("drained {n} ({d})"),
                MachineEvent::Deleted(n) => format!("deleted {n}"),
                MachineEvent::Remediated(n) => format!("remediated {n}"),
            };
            (t.0 / 1_000_000_000, label)
        })
        .collect()
}

fn machine_vms(actors: &[WorldActor]) -> Vec<(String, Option<String>)> {
    api(actors)
        .objects()
        .filter_map(|o| match &o.body {
            Body::VirtualMachine(v) => Some((o.meta.name.clone(), v.host.clone())),
            _ => None,
        })
        .collect()
}

/// (seconds, label) pairs, written as minutes and seconds.
fn at(entries: &[(&str, &str)]) -> Vec<(u64, String)> {
    entries
        .iter()
        .map(|(t, l)| {
            let (m, s) = t.split_once(':').unwrap_or((t, "0"));
            let secs = m.parse::<u64>().unwrap() * 60 + s.parse::<u64>().unwrap();
            (secs, l.to_string())
        })
        .collect()
}

fn cpu_used(actors: &[WorldActor]) -> u64 {
    api(actors).namespace_usage().next().unwrap().1.cpu_millis
}

/// The provisioning of 1 control-plane machine and 2 workers created at 10m.
const PROVISIONED: [(&str, &str); 6] = [
    ("10", "created tkc-a-control-plane-0"),
    ("10", "created tkc-a-workers-0"),
    ("10", "created tkc-a-workers-1"),
    // VM boot 1m + kubeadm init 3m.
    ("14", "ready tkc-a-control-plane-0"),
    // Booted at 11m, they wait for the control plane, then join (2m).
    ("16", "ready tkc-a-workers-0"),
    ("16", "ready tkc-a-workers-1"),
];

#[test]
fn a_tkc_is_provisioned_in_boot_plus_init_plus_join_with_a_vip_endpoint() {
    let w = tkc("10m", "object", "tkc-a", "v1-21", 1, 2, "small");
    let out = checked(&scenario(3, "100", &w, ""));
    let c = cluster(&out.actors, "tkc-a");
    assert_eq!(history(c), at(&PROVISIONED));
    assert_eq!(c.provisioning_time().map(|d| d.0), Some(6 * MIN));
    let t = tkc_status(&out.actors, "tkc-a");
    assert_eq!(
        (t.phase, t.endpoint.as_deref(), t.nodes_ready),
        (ClusterPhase::Running, Some("192.168.100.10"), 3)
    );
    let vms: Vec<String> = machine_vms(&out.actors).into_iter().map(|v| v.0).collect();
    assert_eq!(
        vms,
        [
            "tkc-a-control-plane-0",
            "tkc-a-workers-0",
            "tkc-a-workers-1"
        ]
    );
    // Three small VMs (2 cores each) against the namespace's quota.
    assert_eq!(cpu_used(&out.actors), 6_000);
    let svc = ObjectKey::new(Kind::Service, NS, "tkc-a-control-plane-service");
    assert!(api(&out.actors).get(&svc).is_some());
    let stats = &out.stats.supervisor;
    assert_eq!(stats.guest_provisioning, [6 * MIN]);
}

#[test]
fn a_host_crash_under_a_worker_is_remediated_after_the_health_check_timeout() {
    // Two hosts: esx-02 holds the control-plane machine and workers-1 (12
    // cores); when it crashes at 30m HA restarts the small control-plane
    // VM on esx-01 but finds no room for the large worker.
    let w = tkc("10m", "object", "tkc-a", "v1-21", 1, 2, "large");
    let f = "  - {at: 30m, host: esx-02, fault: crash, repair_after: 10m}\n";
    let out = checked(&scenario(2, "100", &w, f));
    let c = cluster(&out.actors, "tkc-a");
    let mut expected = PROVISIONED.to_vec();
    expected.extend([
        // Restarted by HA at once, rebooted (1m): Ready again, no kubeadm.
        ("31", "ready tkc-a-control-plane-0"),
        // NotReady since 30m: the health check's 5m.
        ("35", "remediated tkc-a-workers-1"),
        ("35", "created tkc-a-workers-2"),
        ("35", "deleted tkc-a-workers-1"),
        // Unplaceable until esx-02 is back at 40m; the VM Operator's
        // retries (10s doubling from 35m) place it at 40m10s; boot + join.
        ("43:10", "ready tkc-a-workers-2"),
    ]);
    assert_eq!(history(c), at(&expected));
    assert_eq!(c.remediations, 1);
    assert_eq!(out.stats.supervisor.guest_remediations, 1);
    assert_eq!(
        machine_vms(&out.actors),
        [
            ("tkc-a-control-plane-0".into(), Some("esx-01".into())),
            ("tkc-a-workers-0".into(), Some("esx-01".into())),
            ("tkc-a-workers-2".into(), Some("esx-02".into())),
        ]
    );
    assert_eq!(tkc_status(&out.actors, "tkc-a").nodes_ready, 3);
}

/// Two hosts, a TKC at 10m of one control-plane machine and two large
/// workers, MachineHealthCheck's maxUnhealthy 0% (it never remediates),
/// and `faults`.
fn large_worker_unremediated(faults: &str) -> Scenario {
    let w = tkc("10m", "object", "tkc-a", "v1-21", 1, 2, "large");
    let mut s = scenario(2, "100", &w, faults);
    s.supervisor
        .as_mut()
        .unwrap()
        .guest_clusters
        .max_unhealthy_percent = 0;
    s
}

#[test]
fn no_remediation_when_more_than_max_unhealthy_are_down() {
    // Same crash, maxUnhealthy 0%: the worker stays NotReady, and once
    // esx-02 is back HA has room: it restarts and rejoins.
    let s =
        large_worker_unremediated("  - {at: 30m, host: esx-02, fault: crash, repair_after: 10m}\n");
    let out = checked(&s);
    let c = cluster(&out.actors, "tkc-a");
    assert_eq!(c.remediations, 0);
    assert!(c.machines.contains_key("tkc-a-workers-1"));
}

#[test]
fn an_upgrade_replaces_every_machine_one_at_a_time_control_plane_first() {
    let w = [
        tkc("10m", "object", "tkc-a", "v1-21", 1, 2, "small"),
        tkc("30m", "update", "tkc-a", "v1-22", 1, 2, "small"),
    ]
    .concat();
    let out = checked(&scenario(3, "100", &w, ""));
    let c = cluster(&out.actors, "tkc-a");
    let mut expected = PROVISIONED.to_vec();
    // maxSurge 1: a new machine joins (boot 1m + join 2m), then the old
    // one is drained and deleted, and the next surge machine starts.
    expected.extend([
        ("30", "created tkc-a-control-plane-1"),
        ("33", "ready tkc-a-control-plane-1"),
        ("33", "drained tkc-a-control-plane-0 (0)"),
        ("33", "created tkc-a-workers-2"),
        ("33", "deleted tkc-a-control-plane-0"),
        ("36", "ready tkc-a-workers-2"),
        ("36", "drained tkc-a-workers-0 (0)"),
        ("36", "created tkc-a-workers-3"),
        ("36", "deleted tkc-a-workers-0"),
        ("39", "ready tkc-a-workers-3"),
        ("39", "drained tkc-a-workers-1 (0)"),
        ("39", "deleted tkc-a-workers-1"),
    ]);
    assert_eq!(history(c), at(&expected));
    assert_eq!(
        c.upgrades.iter().map(|d| d.0).collect::<Vec<_>>(),
        [9 * MIN]
    );
    assert_eq!(out.stats.supervisor.guest_upgrades, [9 * MIN]);
    let t = tkc_status(&out.actors, "tkc-a");
    assert_eq!((t.phase, t.nodes_ready), (ClusterPhase::Running, 3));
    let images: Vec<String> = api(&out.actors)
        .objects()
        .filter_map(|o| match &o.body {
            Body::VirtualMachine(v) => Some(v.image_name.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(images, ["v1-22"; 3]);
}

#[test]
fn scaling_adds_machines_and_scale_down_removes_the_newest() {
    let w = [
        tkc("10m", "object", "tkc-a", "v1-21", 1, 2, "small"),
        tkc("30m", "update", "tkc-a", "v1-21", 1, 4, "small"),
        tkc("40m", "update", "tkc-a", "v1-21", 1, 1, "small"),
    ]
    .concat();
    let out = checked(&scenario(3, "100", &w, ""));
    let c = cluster(&out.actors, "tkc-a");
    let mut expected = PROVISIONED.to_vec();
    expected.extend([
        ("30", "created tkc-a-workers-2"),
        ("30", "created tkc-a-workers-3"),
        ("33", "ready tkc-a-workers-2"),
        ("33", "ready tkc-a-workers-3"),
        ("40", "drained tkc-a-workers-3 (0)"),
        ("40", "drained tkc-a-workers-2 (0)"),
        ("40", "drained tkc-a-workers-1 (0)"),
        ("40", "deleted tkc-a-workers-3"),
        ("40", "deleted tkc-a-workers-2"),
        ("40", "deleted tkc-a-workers-1"),
    ]);
    assert_eq!(history(c), at(&expected));
    assert_eq!(cpu_used(&out.actors), 4_000);
    assert_eq!(c.scale_actions, 2);
    let stats = &out.stats.supervisor;
    assert_eq!((stats.guest_scale_ups, stats.guest_scale_downs), (1, 1));
}

#[test]
fn machines_past_the_quota_wait_and_deleting_the_tkc_frees_it() {
    // 5 cores allowed: the control plane and one worker fit, the second
    // worker is refused (QuotaExceeded) and retried; deleting the cluster
    // at 30m removes its VMs, its endpoint and then the TKC.
    let w = [
        tkc("10m", "object", "tkc-a", "v1-21", 1, 2, "small"),
        delete("30m", "tkc-a"),
    ]
    .concat();
    let out = checked(&scenario(3, "5", &w, ""));
    assert!(capi(&out.actors).clusters().is_empty());
    assert!(api(&out.actors).get(&key("tkc-a")).is_none());
    assert!(machine_vms(&out.actors).is_empty());
    let svc = ObjectKey::new(Kind::Service, NS, "tkc-a-control-plane-service");
    assert!(api(&out.actors).get(&svc).is_none());
    assert_eq!(cpu_used(&out.actors), 0);
    // It never got all its nodes: never Running.
    assert!(out.stats.supervisor.guest_provisioning.is_empty());
    assert!(
        out.stats
            .supervisor
            .calls_refused
            .get("quota_exceeded")
            .copied()
            .unwrap_or(0)
            > 0
    );
}

#[test]
fn a_capi_crash_mid_provisioning_is_rebuilt_and_the_cluster_still_comes_up() {
    // Down from 12m to 13m: the boot timers due at 11m fired, the kubeadm
    // init timer (due 14m) is re-armed at the restart from its due time.
    let w = tkc("10m", "object", "tkc-a", "v1-21", 1, 2, "small");
    let f = "  - {at: 12m, fault: control-plane-crash, components: [capi], repair_after: 1m}\n";
    let out = checked(&scenario(3, "100", &w, f));
    assert_eq!(out.stats.supervisor.rebuilds, 1);
    assert_eq!(out.stats.supervisor.rebuild_mismatches, 0);
    let c = cluster(&out.actors, "tkc-a");
    assert_eq!(history(c), at(&PROVISIONED));
    assert_eq!(
        tkc_status(&out.actors, "tkc-a").phase,
        ClusterPhase::Running
    );
}

#[test]
fn with_three_control_plane_machines_the_others_join_after_the_init() {
    let w = tkc("10m", "object", "tkc-a", "v1-21", 3, 1, "small");
    let out = checked(&scenario(3, "100", &w, ""));
    let c = cluster(&out.actors, "tkc-a");
    assert_eq!(
        history(c),
        at(&[
            ("10", "created tkc-a-control-plane-0"),
            ("10", "created tkc-a-control-plane-1"),
            ("10", "created tkc-a-control-plane-2"),
            ("10", "created tkc-a-workers-0"),
            ("14", "ready tkc-a-control-plane-0"),
            ("16", "ready tkc-a-control-plane-1"),
            ("16", "ready tkc-a-control-plane-2"),
            ("16", "ready tkc-a-workers-0"),
        ])
    );
    assert_eq!(c.provisioning_time().map(|d| d.0), Some(6 * MIN));
    // The control plane is one cluster module: on three different hosts
    // (placement's unit tests show the soft group at work where the score
    // alone would not spread).
    let mut cp_hosts: Vec<String> = machine_vms(&out.actors)
        .into_iter()
        .filter(|(name, _)| name.contains("control-plane"))
        .map(|(_, host)| host.expect("placed"))
        .collect();
    cp_hosts.sort();
    cp_hosts.dedup();
    assert_eq!(cp_hosts.len(), 3, "{cp_hosts:?}");
}

/// With maxUnhealthy 0% and esx-02 gone for good, HA has no room to
/// restart the large worker on esx-01: the worker stays NotReady, but its
/// VM says why (no room), so the liveness check counts it settled, as it
/// does a pod Pending with a reason.
#[test]
fn the_liveness_check_accepts_a_machine_whose_vm_says_why_it_is_down() {
    let mut s = large_worker_unremediated("  - {at: 30m, host: esx-02, fault: crash}\n");
    s.expect_recovery_within = Some(SimDuration::from_secs(1800));
    let out = checked(&s);
    let c = cluster(&out.actors, "tkc-a");
    assert_eq!(c.ready_nodes(), 2, "a worker is down for good");
}

/// A machine whose VM the API refuses for a reason that lasts (here the
/// namespace's quota) is settled, as a pod Pending with a reason is: the
/// cluster waits, and the liveness check does not call it stuck.
#[test]
fn the_liveness_check_accepts_a_machine_refused_for_quota() {
    let w = tkc("10m", "object", "tkc-a", "v1-21", 1, 2, "small");
    let f = "  - {at: 20m, fault: spherelet-crash, host: esx-01, repair_after: 1m}\n";
    let mut s = scenario(3, "5", &w, f);
    s.expect_recovery_within = Some(SimDuration::from_secs(1800));
    let out = checked(&s);
    let c = cluster(&out.actors, "tkc-a");
    assert_eq!(c.ready_nodes(), 2, "the control plane and one worker");
    assert_eq!(c.machines.len(), 3);
}
