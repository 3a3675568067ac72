//! Guest clusters, the inside: Deployments made through the guest's own
//! API (`cluster:`), its scheduler (capacity inside capacity), the cluster
//! autoscaler asking Cluster API for machines and giving idle ones back,
//! and drains during a rolling upgrade, each run with every invariant
//! checked after every event. Machines come up in fixed times (VM boot 1m,
//! kubeadm init 3m, join 2m), so outcomes are exact.

use pacsim::run::{RunOutput, simulate_checked};
use pacsim::scenario::ADMIN_USER;
use pacsim::scenario::{Scenario, load_scenario, parse_scenario};
use pacsim::store::EventLog;
use serde_json::Value;
use std::path::Path;

const NS: &str = "team-a";

/// Five hosts of 16 cores / 64 GiB; class `small` (2 cores, 8Gi,
/// guaranteed); images `v1-21`, `v1-22`; storage class `shared`; alice
/// edits `team-a`. `workloads` are manifests entries.
fn scenario(workloads: &str) -> Scenario {
    let text = text(workloads);
    parse_scenario(&text, "<inline>").unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn text(workloads: &str) -> String {
    format!(
        "seed: 3
duration: 3h
datacenter:
  host_models: [{{name: r650, cpu: 16, memory: 64Gi}}]
  clusters: [{{name: wcp, hosts: [{{model: r650, count: 5}}]}}]
supervisor:
  control_plane: {{vms: 1, cpu: 1, memory: 4Gi, boot: 1m}}
  guest_clusters:
    vm_boot: 1m
    kubeadm_init: 3m
    kubeadm_join: 2m
    pod_start_latency: 2s
  datastores: [{{name: shared, capacity: 10Ti}}]
  storage_policies: [{{name: shared, datastores: [shared]}}]
  users: [{{name: alice}}]
  objects:
    - apiVersion: vmoperator.vmware.com/v1alpha1
      kind: VirtualMachineClass
      metadata: {{name: small}}
      spec:
        hardware: {{cpus: 2, memory: 8Gi}}
        policies: {{resources: {{requests: {{cpu: 2, memory: 8Gi}}}}}}
    - {{apiVersion: vmoperator.vmware.com/v1alpha1, kind: VirtualMachineImage, metadata: {{name: v1-21}}}}
    - {{apiVersion: vmoperator.vmware.com/v1alpha1, kind: VirtualMachineImage, metadata: {{name: v1-22}}}}
    - apiVersion: storage.k8s.io/v1
      kind: StorageClass
      metadata: {{name: shared}}
      provisioner: csi.vsphere.vmware.com
      parameters: {{storagePolicyID: shared}}
  namespaces:
    - name: {NS}
      vm_classes: [small]
      storage_classes: [shared]
      permissions: [{{user: alice, role: edit}}]
workloads:
  manifests:
{workloads}"
    )
}

fn parse_error(workloads: &str) -> String {
    match parse_scenario(&text(workloads), "<inline>") {
        Ok(_) => panic!("parsed:\n{workloads}"),
        Err(e) => e.to_string(),
    }
}

/// A TKC `web` with one control-plane machine and a `workers` pool of
/// `workers` small machines (`autoscaler` appended to the pool, e.g.
/// `, autoscaler: {min: 1, max: 3}`).
fn tkc(at: &str, op: &str, version: &str, workers: u32, autoscaler: &str) -> String {
    format!(
        "    - at: {at}
      user: {ADMIN_USER}
      {op}:
        apiVersion: run.tanzu.vmware.com/v1alpha2
        kind: TanzuKubernetesCluster
        metadata: {{name: web, namespace: {NS}}}
        spec:
          topology:
            controlPlane: {{replicas: 1, vmClass: small, storageClass: shared, tkr: {{reference: {{name: {version}}}}}}}
            nodePools:
              - {{name: workers, replicas: {workers}, vmClass: small, storageClass: shared{autoscaler}}}
"
    )
}

/// A guest Deployment `app` of `replicas` pods requesting `cpu` each.
fn deployment(at: &str, op: &str, replicas: u32, cpu: &str) -> String {
    format!(
        "    - at: {at}
      user: alice
      cluster: {NS}/web
      {op}:
        apiVersion: apps/v1
        kind: Deployment
        metadata: {{name: app}}
        spec:
          replicas: {replicas}
          selector: {{matchLabels: {{app: app}}}}
          template:
            metadata: {{labels: {{app: app}}}}
            spec:
              containers: [{{name: app, image: nginx, resources: {{requests: {{cpu: {cpu}, memory: 1Gi}}}}}}]
"
    )
}

fn run(s: &Scenario) -> (RunOutput, Value) {
    let mut out = simulate_checked(s, EventLog::in_memory(), true, |_, _| {}).unwrap();
    if let Some(v) = &out.violation {
        panic!("{v}");
    }
    let json = out.summary(s, 1.0).to_json();
    (out, json)
}

fn guest(json: &Value) -> &Value {
    &json["supervisor"]["guest_clusters"][format!("{NS}/web")]
}

fn n(v: &Value, key: &str) -> u64 {
    v[key].as_u64().unwrap_or_else(|| panic!("{key} in {v:#}"))
}

#[test]
fn guest_pods_stay_pending_when_the_pools_are_full() {
    // Two 2-core workers: five 1-core pods, four fit.
    let s = scenario(&format!(
        "{}{}",
        tkc("0s", "object", "v1-21", 2, ""),
        deployment("20m", "object", 5, "1")
    ));
    let (_, json) = run(&s);
    let g = guest(&json);
    assert_eq!(
        (n(g, "nodes_desired"), n(g, "nodes_ready")),
        (3, 3),
        "{g:#}"
    );
    assert_eq!(
        (n(g, "pods_running"), n(g, "pods_pending")),
        (4, 1),
        "{g:#}"
    );
    assert_eq!(n(g, "autoscaler_scale_ups"), 0);
    assert_eq!(n(g, "calls_accepted"), 1);
    // Boot 1m + init 3m for the control plane, then join 2m for workers.
    assert_eq!(g["phase"], "Running");
    assert_eq!(g["provisioning_seconds"], 360.0);
}

#[test]
fn guest_calls_before_the_control_plane_is_up_are_refused() {
    let s = scenario(&format!(
        "{}{}",
        tkc("0s", "object", "v1-21", 1, ""),
        deployment("1m", "object", 1, "1")
    ));
    let (_, json) = run(&s);
    let g = guest(&json);
    assert_eq!((n(g, "calls_accepted"), n(g, "calls_refused")), (0, 1));
    assert_eq!(n(g, "pods_running"), 0);
}

#[test]
fn the_autoscaler_adds_machines_under_pending_pods_and_removes_idle_ones_after_the_delay() {
    // 900m pods: two per 2-core worker. Five need three workers; at 1h
    // one pod is left, so two workers idle out (below 50% for 10 min).
    let s = scenario(&format!(
        "{}{}{}",
        tkc("0s", "object", "v1-21", 1, ", autoscaler: {min: 1, max: 3}"),
        deployment("20m", "object", 5, "900m"),
        deployment("1h", "update", 1, "900m"),
    ));
    let (_, json) = run(&s);
    let g = guest(&json);
    assert_eq!(n(g, "autoscaler_scale_ups"), 1, "{g:#}");
    assert_eq!(n(g, "autoscaler_nodes_added"), 2, "{g:#}");
    assert_eq!(n(g, "autoscaler_scale_downs"), 2, "{g:#}");
    assert_eq!(n(g, "autoscaler_nodes_removed"), 2, "{g:#}");
    assert_eq!(
        (n(g, "nodes_desired"), n(g, "nodes_ready")),
        (2, 2),
        "{g:#}"
    );
    assert_eq!(
        (n(g, "pods_running"), n(g, "pods_pending")),
        (1, 0),
        "{g:#}"
    );
}

#[test]
fn drains_during_an_upgrade_count_the_disrupted_pods() {
    let s = scenario(&format!(
        "{}{}{}",
        tkc("0s", "object", "v1-21", 2, ""),
        deployment("20m", "object", 4, "1"),
        tkc("1h", "update", "v1-22", 2, ""),
    ));
    let (_, json) = run(&s);
    let g = guest(&json);
    assert_eq!(n(g, "upgrades"), 1, "{g:#}");
    // Three machines replaced one at a time, each boot 1m + join 2m.
    assert_eq!(g["upgrade_seconds"], 540.0);
    assert_eq!(g["provisioning_seconds"], 360.0);
    assert_eq!(
        (n(g, "pods_running"), n(g, "pods_pending")),
        (4, 0),
        "{g:#}"
    );
    assert_eq!(n(g, "disrupted_pods"), 4, "{g:#}");
}

#[test]
fn the_shipped_guest_clusters_scenario_holds_its_expectations() {
    let s = load_scenario(Path::new("scenarios/guest-clusters.yaml")).expect("parses");
    let (_, json) = run(&s);
    for e in &s.expect {
        let verdict = pacsim::report::expect::check(e, &json, "guest-clusters.yaml");
        assert!(
            matches!(verdict, pacsim::report::expect::Verdict::Held { .. }),
            "{}: {verdict:?}",
            e.text
        );
    }
    // The numbers it produces (seed 11), exactly.
    let g = |name: &str| json["supervisor"]["guest_clusters"][name].clone();
    let web = g("team-a/web-prod");
    assert_eq!(web["provisioning_seconds"], 288.0, "{web:#}");
    assert_eq!(web["upgrade_seconds"], 959.9, "{web:#}");
    assert_eq!(n(&web, "disrupted_pods"), 12);
    let ci = g("team-a/ci");
    assert_eq!(ci["provisioning_seconds"], 413.1, "{ci:#}");
    assert_eq!(
        (
            n(&ci, "autoscaler_scale_ups"),
            n(&ci, "autoscaler_scale_downs")
        ),
        (2, 4),
        "{ci:#}"
    );
    assert_eq!(g("team-b/analytics")["provisioning_seconds"], 352.6);
}

#[test]
fn the_autoscaler_expander_is_chosen_by_name_with_a_suggestion_when_misspelt() {
    let with = |expander: &str| {
        text(&tkc(
            "0s",
            "object",
            "v1-21",
            1,
            ", autoscaler: {min: 1, max: 3}",
        ))
        .replace(
            "    pod_start_latency: 2s\n",
            &format!("    pod_start_latency: 2s\n    autoscaler_expander: {expander}\n"),
        )
    };
    let expander_of = |text: &str| {
        let s = parse_scenario(text, "<inline>").unwrap_or_else(|e| panic!("{e}"));
        s.supervisor.expect("a supervisor").guest_clusters.expander
    };
    use pacsim::scenario::Expander;
    assert_eq!(expander_of(&with("least-waste")), Expander::LeastWaste);
    assert_eq!(expander_of(&with("most-pods")), Expander::MostPods);
    assert_eq!(expander_of(&with("first")), Expander::First);
    assert_eq!(expander_of(&text("")), Expander::First);
    let Err(e) = parse_scenario(&with("least-wast"), "<inline>") else {
        panic!("a misspelt expander was accepted");
    };
    let e = e.to_string();
    assert!(
        e.contains("unknown expander `least-wast`") && e.contains("`least-waste`"),
        "{e}"
    );
    assert!(e.starts_with("<inline>:13:26:"), "{e}");
}

#[test]
fn guest_calls_must_name_a_created_cluster_and_a_guest_kind() {
    let err = parse_error(&deployment("20m", "object", 1, "1"));
    assert!(
        err.contains("`cluster: team-a/web` names no TanzuKubernetesCluster created"),
        "{err}"
    );
    let vm = format!(
        "{}    - at: 20m
      user: alice
      cluster: {NS}/web
      object:
        apiVersion: vmoperator.vmware.com/v1alpha1
        kind: VirtualMachine
        metadata: {{name: vm, namespace: default}}
        spec: {{className: small, imageName: v1-21, storageClass: shared}}
",
        tkc("0s", "object", "v1-21", 1, "")
    );
    let err = parse_error(&vm);
    assert!(
        err.contains("a guest cluster's API (`cluster:`) takes"),
        "{err}"
    );
    let bad = format!(
        "{}    - {{at: 20m, user: alice, cluster: web, delete: {{kind: Pod, name: p}}}}\n",
        tkc("0s", "object", "v1-21", 1, "")
    );
    let err = parse_error(&bad);
    assert!(err.contains("as `<namespace>/<name>`"), "{err}");
}

#[test]
fn a_guest_cluster_cannot_come_from_an_object_generator() {
    let generator = format!(
        "  object_generators:
    - name: tkcs
      user: {ADMIN_USER}
      rate: 1/h
      template:
        apiVersion: run.tanzu.vmware.com/v1alpha2
        kind: TanzuKubernetesCluster
        metadata: {{name: gen, namespace: {NS}}}
        spec:
          topology:
            controlPlane: {{replicas: 1, vmClass: small, storageClass: shared, tkr: {{reference: {{name: v1-21}}}}}}
"
    );
    let err = parse_error(&format!(
        "    - {{at: 0s, user: alice, delete: {{kind: Pod, namespace: {NS}, name: x}}}}\n{generator}"
    ));
    assert!(
        err.contains("a TanzuKubernetesCluster cannot come from an object generator"),
        "{err}"
    );
}

#[test]
fn the_guest_clusters_scenario_is_deterministic() {
    let s = load_scenario(Path::new("scenarios/guest-clusters.yaml")).expect("parses");
    let (a, _) = run(&s);
    let (b, _) = run(&s);
    assert_eq!(a.digest, b.digest);
}
