//! The VM Operator, NSX and CNS end to end: VirtualMachines placed by the
//! DRS-like policy under their storage's host constraint, address and VIP
//! exhaustion at the API, and capacity freed by power-off, deletion and
//! resize. Each test runs a scenario (with every invariant checked after
//! every event) and reads the final actors.

use crate::support::{api, checked, part};
use pacsim::actors::{Placement, WorldActor};
use pacsim::api::msg::ApiError;
use pacsim::api::objects::*;
use pacsim::model::resources::GIB;
use pacsim::model::{HostId, Resources, VmId};
use pacsim::scenario::ADMIN_USER;
use pacsim::scenario::{Scenario, parse_scenario};
use pacsim::supervisor::actors::SupActor;
use pacsim::supervisor::clients::CallOutcome;
use pacsim::supervisor::network::Network;
use pacsim::supervisor::storage::Storage;
use pacsim::supervisor::vm_operator::{Life, VmOperator};

const NS: &str = "team-a";

/// `hosts` hosts of 16 cores and 64 GiB, DRS, no HA.
/// A Supervisor on `hosts` hosts of 16 cores and 64 GiB (DRS, no HA) with
/// one small control-plane VM (1 core, 4Gi; it lands on esx-01 at time 0).
/// Datastores: `shared` on every host, `local-34` only on esx-03 and
/// esx-04 (esx-01 with fewer hosts); storage classes of the same names use policies of the same
/// names. Classes: `small` (2 cores, 8Gi) and `large` (12, 48Gi), both
/// guaranteed, and `best-effort` (2, 8Gi, no reservation). Namespace
/// team-a's segment has `segment_size` addresses; the VIP pool `vips`.
/// `workloads` and `faults` are YAML lists (indented by 4 and 2).
fn scenario(hosts: usize, segment_size: u32, vips: u32, workloads: &str, faults: &str) -> Scenario {
    let faults = if faults.is_empty() {
        String::new()
    } else {
        format!("faults:\n{faults}")
    };
    // With fewer than four hosts, `local-34` is on esx-01 only.
    let local = if hosts >= 4 {
        "[esx-03, esx-04]"
    } else {
        "[esx-01]"
    };
    // The namespace network is the one namespace's subnet: no growth.
    let prefix = 32 - segment_size.trailing_zeros();
    let text = format!(
        "seed: 3
duration: 2h
datacenter:
  host_models: [{{name: r650, cpu: 16, memory: 64Gi}}]
  clusters: [{{name: wcp, hosts: [{{model: r650, count: {hosts}}}]}}]
placement: {{policy: drs}}
supervisor:
  control_plane: {{vms: 1, cpu: 1, memory: 4Gi, boot: 1m}}
  network:
    segment_size: {segment_size}
    namespace_network: 10.244.0.0/{prefix}
    vip_pool: {{first: 192.168.100.10, count: {vips}}}
  datastores:
    - {{name: shared, capacity: 1Ti}}
    - {{name: local-34, capacity: 1Ti, hosts: {local}}}
  storage_policies:
    - {{name: shared, datastores: [shared]}}
    - {{name: local-34, datastores: [local-34]}}
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
    - apiVersion: vmoperator.vmware.com/v1alpha1
      kind: VirtualMachineClass
      metadata: {{name: best-effort}}
      spec: {{hardware: {{cpus: 2, memory: 8Gi}}}}
    - apiVersion: vmoperator.vmware.com/v1alpha1
      kind: VirtualMachineImage
      metadata: {{name: ubuntu, annotations: {{pacsim.io/disk-size: 20Gi}}}}
    - apiVersion: storage.k8s.io/v1
      kind: StorageClass
      metadata: {{name: shared}}
      provisioner: csi.vsphere.vmware.com
      parameters: {{storagePolicyID: shared}}
    - apiVersion: storage.k8s.io/v1
      kind: StorageClass
      metadata: {{name: local-34}}
      provisioner: csi.vsphere.vmware.com
      parameters: {{storagePolicyID: local-34}}
  namespaces:
    - name: {NS}
      vm_classes: [small, large, best-effort]
      storage_classes: [shared, local-34]
workloads:
  manifests:
{workloads}{faults}"
    );
    parse_scenario(&text, "<inline>").unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// A manifests entry creating a VirtualMachine (`claim`: its one volume,
/// on storage class local-34; none: storage class shared).
fn vm(at: &str, name: &str, class: &str, power: &str, claim: Option<&str>) -> String {
    let (sc, volumes) = match claim {
        Some(c) => (
            "local-34",
            format!(", volumes: [{{name: data, persistentVolumeClaim: {{claimName: {c}}}}}]"),
        ),
        None => ("shared", String::new()),
    };
    format!(
        "    - at: {at}
      user: {ADMIN_USER}
      object:
        apiVersion: vmoperator.vmware.com/v1alpha2
        kind: VirtualMachine
        metadata: {{name: {name}, namespace: {NS}}}
        spec: {{className: {class}, imageName: ubuntu, storageClass: {sc}, powerState: {power}{volumes}}}
"
    )
}

/// An update of a VirtualMachine without volumes (class, power state).
fn vm_update(at: &str, name: &str, class: &str, power: &str) -> String {
    vm(at, name, class, power, None).replace("object:", "update:")
}

fn claim(at: &str, name: &str, storage_class: &str) -> String {
    format!(
        "    - at: {at}
      user: {ADMIN_USER}
      object:
        apiVersion: v1
        kind: PersistentVolumeClaim
        metadata: {{name: {name}, namespace: {NS}}}
        spec: {{storageClassName: {storage_class}, resources: {{requests: {{storage: 100Gi}}}}}}
"
    )
}

fn load_balancer(at: &str, name: &str) -> String {
    format!(
        "    - at: {at}
      user: {ADMIN_USER}
      object:
        apiVersion: v1
        kind: Service
        metadata: {{name: {name}, namespace: {NS}}}
        spec: {{type: LoadBalancer, selector: {{app: {name}}}, ports: [{{port: 443}}]}}
"
    )
}

fn delete(at: &str, kind: &str, name: &str) -> String {
    format!(
        "    - {{at: {at}, user: {ADMIN_USER}, delete: {{kind: {kind}, namespace: {NS}, name: {name}}}}}\n"
    )
}

/// Runs `s` with every invariant checked after every event; its final
/// actors.
fn run(s: &Scenario) -> Vec<WorldActor> {
    checked(s).actors
}

/// The `--json` summary of a checked run.
fn checked_summary(s: &Scenario) -> serde_json::Value {
    checked(s).summary(s, 1.0).to_json()
}

fn operator(actors: &[WorldActor]) -> &VmOperator {
    part(actors, |a| match a {
        SupActor::VmOperator(x) => Some(x),
        _ => None,
    })
}

fn network(actors: &[WorldActor]) -> &Network {
    part(actors, |a| match a {
        SupActor::Network(x) => Some(x),
        _ => None,
    })
}

fn storage(actors: &[WorldActor]) -> &Storage {
    part(actors, |a| match a {
        SupActor::Storage(x) => Some(x),
        _ => None,
    })
}

fn placement(actors: &[WorldActor]) -> &Placement {
    match &actors[0] {
        WorldActor::Placement(p) => p,
        _ => panic!("actor 0 is placement"),
    }
}

fn outcomes(actors: &[WorldActor]) -> Vec<CallOutcome> {
    part(actors, |a| match a {
        SupActor::Clients(x) => Some(x),
        _ => None,
    })
    .outcomes()
    .values()
    .cloned()
    .collect()
}

fn key(name: &str) -> ObjectKey {
    ObjectKey::new(Kind::VirtualMachine, NS, name)
}

fn status(actors: &[WorldActor], name: &str) -> VirtualMachine {
    match api(actors).get(&key(name)).map(|o| &o.body) {
        Some(Body::VirtualMachine(v)) => v.clone(),
        other => panic!("{name}: {other:?}"),
    }
}

/// (host name, phase, actual power) of each VM, by name.
fn hosts(actors: &[WorldActor], names: &[&str]) -> Vec<(Option<String>, VmPhase, PowerState)> {
    names
        .iter()
        .map(|n| {
            let v = status(actors, n);
            (v.host, v.phase, v.actual_power)
        })
        .collect()
}

/// Where placement has the VM's current workload, and its size.
fn placed(actors: &[WorldActor], name: &str) -> Option<(HostId, Resources)> {
    let id: VmId = operator(actors).workload_of(&key(name))?;
    placement(actors)
        .placed()
        .find(|a| a.vm == id)
        .map(|a| (a.host, a.size))
}

fn on(h: &str) -> (Option<String>, VmPhase, PowerState) {
    (Some(h.into()), VmPhase::Created, PowerState::PoweredOn)
}

fn ok(o: &CallOutcome) -> bool {
    matches!(o, CallOutcome::Ok { .. })
}

#[test]
fn vms_with_a_volume_run_only_on_hosts_that_see_its_datastore() {
    // Four hosts: DRS spreads, but the three VMs with a claim on local-34
    // stay on esx-03 and esx-04; the fourth goes to the emptiest other host.
    let mut w = String::new();
    for i in 0..3 {
        w += &claim("10s", &format!("data-{i}"), "local-34");
        w += &vm(
            "20s",
            &format!("db-{i}"),
            "small",
            "PoweredOn",
            Some(&format!("data-{i}")),
        );
    }
    w += &vm("30s", "web", "small", "PoweredOn", None);
    let s = scenario(4, 16, 2, &w, "");
    let actors = run(&s);
    assert!(outcomes(&actors).iter().all(ok), "{:?}", outcomes(&actors));
    assert_eq!(
        hosts(&actors, &["db-0", "db-1", "db-2", "web"]),
        vec![on("esx-03"), on("esx-04"), on("esx-03"), on("esx-02")]
    );
    for name in ["db-0", "db-1", "db-2"] {
        let (host, size) = placed(&actors, name).unwrap();
        assert!(host == HostId(2) || host == HostId(3), "{name} on {host:?}");
        assert_eq!(size, Resources::cores(2, 8));
    }
    let ds = storage(&actors).datastore("local-34").unwrap();
    assert_eq!((ds.used_bytes, ds.capacity_bytes), (300 * GIB, 1 << 40));
    // VMs got addresses from the namespace's segment, lowest first.
    assert_eq!(
        network(&actors).addresses(NS),
        vec!["10.244.0.2", "10.244.0.3", "10.244.0.4", "10.244.0.5"]
    );
    assert!(status(&actors, "web").conditions().iter().all(|c| c.status));

    let json = checked_summary(&s);
    let sup = &json["supervisor"];
    assert_eq!(sup["datastores"]["local-34"]["used_gib"], 300.0);
    assert_eq!(sup["datastores"]["local-34"]["capacity_gib"], 1024.0);
    assert_eq!(sup["datastores"]["shared"]["used_gib"], 0.0);
    assert_eq!(sup["network"]["segments"][NS]["block"], "10.244.0.0/28");
    assert_eq!(sup["network"]["segments"][NS]["in_use"], 4);
    assert_eq!(sup["network"]["vips"]["usable"], 2);
    assert_eq!(sup["vms"]["by_phase"]["Created"], 4);
    assert_eq!(sup["vms"]["powered_on"], 4);
}

#[test]
fn a_vm_whose_datastore_hosts_are_full_is_unplaceable_and_placed_when_room_appears() {
    // esx-03 and esx-04 take one large VM each; a third with a local claim
    // may not use esx-01 or esx-02, so it waits, and goes when one is deleted.
    let mut w = claim("10s", "d", "local-34");
    for i in 0..3 {
        w += &vm("20s", &format!("big-{i}"), "large", "PoweredOn", Some("d"));
    }
    let actors = run(&scenario(4, 16, 2, &w, ""));
    assert_eq!(
        hosts(&actors, &["big-0", "big-1"]),
        vec![on("esx-03"), on("esx-04")]
    );
    let v = status(&actors, "big-2");
    assert_eq!(
        (v.phase, v.host.as_deref(), v.reason.as_deref()),
        (
            VmPhase::Unplaceable,
            None,
            Some("none of the 2 allowed host(s) has room for 12 cores, 48.0 GiB")
        )
    );
    assert!(!v.conditions()[0].status);
    assert!(
        operator(&actors)
            .view(&key("big-2"))
            .unwrap()
            .waiting_for_retry
    );

    w += &delete("10m", "VirtualMachine", "big-0");
    let actors = run(&scenario(4, 16, 2, &w, ""));
    assert_eq!(
        hosts(&actors, &["big-1", "big-2"]),
        vec![on("esx-04"), on("esx-03")]
    );
    assert!(api(&actors).get(&key("big-0")).is_none());
}

#[test]
fn namespace_ip_exhaustion_fails_the_create_with_the_segment_and_a_delete_frees_an_address() {
    // A /29: 8 addresses, 5 usable.
    let mut w = String::new();
    for i in 0..6 {
        w += &vm(
            &format!("{}s", 10 + i),
            &format!("v{i}"),
            "best-effort",
            "PoweredOff",
            None,
        );
    }
    w += &delete("100s", "VirtualMachine", "v1");
    w += &vm("110s", "v6", "best-effort", "PoweredOff", None);
    let actors = run(&scenario(2, 8, 2, &w, ""));
    let out = outcomes(&actors);
    assert!(out[..5].iter().all(ok), "{out:?}");
    assert_eq!(
        out[5],
        CallOutcome::Refused(ApiError::IpExhausted(
            "namespace network 10.244.0.0/29 is exhausted: namespace team-a holds 1 subnet(s) of 8 addresses, all 5 usable ones in use".into()
        ))
    );
    assert!(ok(&out[6]) && ok(&out[7]), "{out:?}");
    assert!(api(&actors).get(&key("v5")).is_none());
    // v6 got v1's address back.
    assert_eq!(status(&actors, "v6").ip.as_deref(), Some("10.244.0.3"));
    let seg = network(&actors).segment(NS).unwrap();
    assert_eq!(
        (seg.block.as_str(), seg.in_use, seg.usable),
        ("10.244.0.0/29", 5, 5)
    );
}

#[test]
fn vip_exhaustion_fails_the_load_balancer_create_with_the_pool() {
    let w = [
        load_balancer("10s", "a"),
        load_balancer("11s", "b"),
        load_balancer("12s", "c"),
        delete("20s", "Service", "a"),
        load_balancer("21s", "d"),
    ]
    .concat();
    let actors = run(&scenario(2, 16, 2, &w, ""));
    let out = outcomes(&actors);
    assert_eq!(
        out[2],
        CallOutcome::Refused(ApiError::IpExhausted(
            "no free VIP in the load-balancer pool 192.168.100.10-192.168.100.11 (2 in use)".into()
        ))
    );
    assert!([0, 1, 3, 4].iter().all(|&i| ok(&out[i])), "{out:?}");
    let vip = |name: &str| match api(&actors)
        .get(&ObjectKey::new(Kind::Service, NS, name))
        .map(|o| &o.body)
    {
        Some(Body::Service(s)) => s.vip.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(vip("d").as_deref(), Some("192.168.100.10"));
    assert_eq!(vip("b").as_deref(), Some("192.168.100.11"));
    assert_eq!(network(&actors).vip_pool().in_use, 2);
}

#[test]
fn powering_off_frees_host_capacity_for_a_waiting_vm_at_once() {
    // Two hosts, one large VM fits per host: c waits until a powers off.
    let w = [
        vm("10s", "a", "large", "PoweredOn", None),
        vm("10s", "b", "large", "PoweredOn", None),
        vm("10s", "c", "large", "PoweredOn", None),
        vm_update("1000s", "a", "large", "PoweredOff"),
    ]
    .concat();
    let actors = run(&scenario(2, 16, 2, &w, ""));
    assert!(outcomes(&actors).iter().all(ok));
    assert_eq!(
        hosts(&actors, &["a", "b", "c"]),
        vec![
            (None, VmPhase::Created, PowerState::PoweredOff),
            on("esx-01"),
            on("esx-02"),
        ]
    );
    assert_eq!(placed(&actors, "a"), None);
    // esx-01 also runs the control-plane VM (1 core, 4Gi).
    let used: Vec<Resources> = placement(&actors).host_beliefs().map(|b| b.used).collect();
    assert_eq!(
        used,
        vec![Resources::cores(13, 52), Resources::cores(12, 48)]
    );
    // c's retries back off to minutes; it went at 1000 s because a's
    // power-off freed the host, not because a timer fired.
    let view = operator(&actors).view(&key("c")).unwrap();
    assert!(matches!(view.life, Life::Running { .. }) && !view.waiting_for_retry);
}

#[test]
fn suspending_and_powering_on_again_moves_between_hosts_as_drs_decides() {
    let w = [
        vm("10s", "a", "small", "PoweredOn", None),
        vm("20s", "b", "small", "PoweredOn", None),
        vm_update("30s", "a", "small", "Suspended"),
        vm("40s", "c", "large", "PoweredOn", None),
        vm_update("50s", "a", "small", "PoweredOn"),
    ]
    .concat();
    let actors = run(&scenario(2, 16, 2, &w, ""));
    // a on esx-02 (esx-01 has the control plane), b on esx-01; a suspended
    // leaves esx-02 empty for c; a powered on again goes to the lighter
    // esx-01.
    assert_eq!(
        hosts(&actors, &["a", "b", "c"]),
        vec![on("esx-01"), on("esx-01"), on("esx-02")]
    );
    let mut suspended = w.clone();
    suspended.truncate(w.rfind("    - at: 50s").unwrap());
    let actors = run(&scenario(2, 16, 2, &suspended, ""));
    assert_eq!(
        hosts(&actors, &["a"]),
        vec![(None, VmPhase::Created, PowerState::Suspended)]
    );
}

#[test]
fn deleting_a_vm_frees_its_capacity_and_its_address() {
    // One host: b waits for a's room; a's deletion gives it.
    let w = [
        vm("10s", "a", "large", "PoweredOn", None),
        vm("10s", "b", "large", "PoweredOn", None),
        delete("100s", "VirtualMachine", "a"),
    ]
    .concat();
    let actors = run(&scenario(1, 16, 2, &w, ""));
    assert!(outcomes(&actors).iter().all(ok));
    assert_eq!(hosts(&actors, &["b"]), vec![on("esx-01")]);
    assert_eq!(
        placement(&actors).host_beliefs().next().unwrap().used,
        Resources::cores(13, 52)
    );
    assert_eq!(network(&actors).addresses(NS), vec!["10.244.0.3"]);
    assert!(operator(&actors).view(&key("a")).is_none());
}

#[test]
fn a_class_change_resizes_a_running_vm() {
    let w = [
        vm("10s", "a", "small", "PoweredOn", None),
        vm_update("100s", "a", "large", "PoweredOn"),
    ]
    .concat();
    let actors = run(&scenario(2, 16, 2, &w, ""));
    assert_eq!(hosts(&actors, &["a"]), vec![on("esx-02")]);
    assert_eq!(
        placed(&actors, "a"),
        Some((HostId(1), Resources::cores(12, 48)))
    );
    // The small life is gone: placement holds the control plane and a.
    assert_eq!(placement(&actors).placed().count(), 2);
    assert_eq!(
        api(&actors).namespace_usage().next().unwrap().1.cpu_millis,
        12_000
    );
}

#[test]
fn a_host_crash_restarts_the_vm_elsewhere_and_status_follows() {
    let w = vm("10s", "a", "small", "PoweredOn", None);
    let crash = "  - {at: 10m, host: esx-02, fault: crash}\n";
    let actors = run(&scenario(2, 16, 2, &w, crash));
    assert_eq!(hosts(&actors, &["a"]), vec![on("esx-01")]);
    assert_eq!(placed(&actors, "a").unwrap().0, HostId(0));
}

/// The same crash while the VM Operator is down (9m to 12m): placement's
/// `Displaced` and HA's `Placed` are lost with its process. At its restart
/// it asks placement what it holds and learns the VM runs on esx-01.
/// (Before, its status kept naming esx-02 for good.)
#[test]
fn a_vm_restarted_by_ha_while_the_vm_operator_was_down_has_its_new_host_in_status() {
    let w = vm("10s", "a", "small", "PoweredOn", None);
    let faults = "  - {at: 10m, host: esx-02, fault: crash}
  - {at: 9m, fault: control-plane-crash, components: [vm-operator], repair_after: 3m}\n";
    let actors = run(&scenario(2, 16, 2, &w, faults));
    assert_eq!(placed(&actors, "a").unwrap().0, HostId(0));
    assert_eq!(hosts(&actors, &["a"]), vec![on("esx-01")]);
}

#[test]
fn a_vm_that_ha_finds_no_room_for_is_failed_with_the_reason_and_keeps_retrying() {
    let w = [
        vm("10s", "a", "large", "PoweredOn", None),
        vm("10s", "b", "large", "PoweredOn", None),
    ]
    .concat();
    let crash = "  - {at: 10m, host: esx-02, fault: crash}\n";
    let actors = run(&scenario(2, 16, 2, &w, crash));
    assert_eq!(hosts(&actors, &["b"]), vec![on("esx-01")]);
    let a = status(&actors, "a");
    assert_eq!(
        (a.phase, a.actual_power, a.host.as_deref()),
        (VmPhase::Failed, PowerState::PoweredOff, None)
    );
    assert_eq!(
        a.reason.as_deref(),
        Some(
            "its host failed and vSphere HA found no host with room; last retry: \
             no host has room for 12 cores, 48.0 GiB"
        )
    );
    let view = operator(&actors).view(&key("a")).unwrap();
    assert!(view.waiting_for_retry && view.failures > 1, "{view:?}");
}

#[test]
fn a_datastore_failure_fails_the_vms_on_it_until_the_repair_then_they_run_again() {
    let w = [
        claim("10s", "d", "local-34"),
        vm("20s", "db", "small", "PoweredOn", Some("d")),
        vm("20s", "web", "small", "PoweredOn", None),
    ]
    .concat();
    let fault = "  - {at: 10m, fault: datastore-failure, datastore: local-34, repair_after: 10m}\n";
    let actors = run(&scenario(4, 16, 2, &w, fault));
    assert_eq!(
        hosts(&actors, &["db", "web"]),
        vec![on("esx-03"), on("esx-02")]
    );

    // Never repaired: db is Failed with the reason, web untouched.
    let fault = "  - {at: 10m, fault: datastore-failure, datastore: local-34}\n";
    let actors = run(&scenario(4, 16, 2, &w, fault));
    let db = status(&actors, "db");
    assert_eq!(
        (db.phase, db.host.as_deref(), db.reason.as_deref()),
        (
            VmPhase::Failed,
            None,
            Some("datastore local-34 of claim d failed")
        )
    );
    assert_eq!(placed(&actors, "db"), None);
    assert_eq!(hosts(&actors, &["web"]), vec![on("esx-02")]);
    assert!(storage(&actors).datastore("local-34").unwrap().failed);
    // The report names the VM the failure took, with the reason.
    let summary = checked_summary(&scenario(4, 16, 2, &w, fault));
    assert_eq!(
        summary["supervisor"]["vms"]["not_running"],
        serde_json::json!({"team-a/db": "datastore local-34 of claim d failed"})
    );
    assert_eq!(summary["faults"]["datastore_failure"], 1);
}

/// A manifests entry creating `kind` (Pod, or a Deployment of one
/// replica) whose pod mounts claim `claim` (2 cores, 4Gi).
fn pod_with_claim(at: &str, kind: &str, name: &str, claim: &str) -> String {
    let spec = format!(
        "{{containers: [{{name: c, image: nginx, resources: {{requests: {{cpu: 2, memory: 4Gi}}}}}}], \
         volumes: [{{name: data, persistentVolumeClaim: {{claimName: {claim}}}}}]}}"
    );
    let (api_version, spec) = match kind {
        "Pod" => ("v1", spec),
        _ => (
            "apps/v1",
            format!(
                "{{replicas: 1, selector: {{matchLabels: {{app: {name}}}}}, \
                 template: {{metadata: {{labels: {{app: {name}}}}}, spec: {spec}}}}}"
            ),
        ),
    };
    format!(
        "    - at: {at}
      user: {ADMIN_USER}
      object:
        apiVersion: {api_version}
        kind: {kind}
        metadata: {{name: {name}, namespace: {NS}}}
        spec: {spec}
"
    )
}

#[test]
fn running_pods_with_a_volume_on_a_failed_datastore_are_powered_off_and_failed() {
    let w = [
        claim("10s", "d", "local-34"),
        pod_with_claim("20s", "Pod", "solo", "d"),
        pod_with_claim("20s", "Deployment", "web", "d"),
    ]
    .concat();
    let fault = "  - {at: 10m, fault: datastore-failure, datastore: local-34, repair_after: 10m}\n";
    let s = scenario(4, 16, 2, &w, fault);
    let mut out = checked(&s);
    let pods: Vec<(String, PodPhase, Option<String>, Option<String>)> = api(&out.actors)
        .objects()
        .filter_map(|o| match &o.body {
            Body::Pod(p) => Some((
                o.meta.name.clone(),
                p.phase,
                p.node.clone(),
                p.reason.clone(),
            )),
            _ => None,
        })
        .collect();
    let lost = "PersistentVolumeClaim d is on datastore local-34, which failed; \
                VM Component Protection powered the pod's CRX off";
    let failed: Vec<&str> = pods
        .iter()
        .filter(|p| p.1 == PodPhase::Failed)
        .map(|p| {
            assert_eq!(p.3.as_deref(), Some(lost), "{p:?}");
            p.0.as_str()
        })
        .collect();
    assert_eq!(failed.len(), 2, "{pods:?}");
    assert!(failed.contains(&"solo"), "{pods:?}");
    // The Deployment's replacement waited for the repair, then ran on a
    // host that sees the datastore.
    let running: Vec<_> = pods.iter().filter(|p| p.1 == PodPhase::Running).collect();
    assert_eq!(running.len(), 1, "{pods:?}");
    assert!(
        matches!(running[0].2.as_deref(), Some("esx-03" | "esx-04")),
        "{pods:?}"
    );
    // The failed pods' CRXs were powered off: placement holds the control
    // plane and the one running pod.
    assert_eq!(placement(&out.actors).placed().count(), 2);
    let summary = out.summary(&s, 1.0).to_json();
    assert_eq!(summary["supervisor"]["pods"]["failed"], 2);
}

/// The repair comes while the scheduler is down, so it never hears of it;
/// at its restart it asks CNS for the datastores' health, and the pod that
/// waited for the repair is scheduled.
#[test]
fn a_repair_missed_while_the_scheduler_was_down_is_learnt_at_its_restart() {
    let w = [
        claim("10s", "d", "local-34"),
        pod_with_claim("6m", "Pod", "late", "d"),
    ]
    .concat();
    let faults = "  - {at: 5m, fault: datastore-failure, datastore: local-34, repair_after: 5m30s}
  - {at: 10m, fault: control-plane-crash, components: [scheduler], repair_after: 1m}\n";
    let s = scenario(4, 16, 2, &w, faults);
    let out = checked(&s);
    let late = api(&out.actors)
        .objects()
        .find(|o| o.meta.name == "late")
        .expect("the pod");
    let Body::Pod(p) = &late.body else { panic!() };
    assert_eq!(p.phase, PodPhase::Running, "{p:?}");
    assert!(
        matches!(p.node.as_deref(), Some("esx-03" | "esx-04")),
        "{p:?}"
    );
    // Not before the restart at 11m.
    assert!(p.started.is_some_and(|t| t.0 >= 660_000_000_000), "{p:?}");
}

#[test]
fn a_vm_operator_crash_loses_nothing_it_cannot_rebuild() {
    // The operator is down from 5 s to 60 s. A VM created before, one
    // created after and a resize after the restart all work, and the
    // state rebuilt from its journal equals its state before the crash.
    let w = [
        vm("1s", "before", "small", "PoweredOn", None),
        vm("100s", "after", "small", "PoweredOn", None),
        vm_update("200s", "before", "large", "PoweredOn"),
    ]
    .concat();
    let crash =
        "  - {at: 5s, fault: control-plane-crash, components: [vm-operator], repair_after: 55s}\n";
    let actors = run(&scenario(2, 16, 2, &w, crash));
    assert_eq!(
        hosts(&actors, &["before", "after"]),
        vec![on("esx-02"), on("esx-01")]
    );
    assert_eq!(
        placed(&actors, "before"),
        Some((HostId(1), Resources::cores(12, 48)))
    );
    let mismatch = actors.iter().any(|a| match a {
        WorldActor::Supervisor(s) => s.rebuild_mismatch,
        _ => false,
    });
    assert!(
        !mismatch,
        "a rebuild differed from the state before its crash"
    );
}

/// A VM created while the operator is down (5 s to 60 s) is seen in the
/// relist at its restart and placed once: the restart's forgetting of lost
/// answers comes before the relist, not after it.
#[test]
fn a_vm_created_while_the_operator_is_down_is_placed_once_after_the_relist() {
    let w = vm("30s", "during", "small", "PoweredOn", None);
    let crash =
        "  - {at: 5s, fault: control-plane-crash, components: [vm-operator], repair_after: 55s}\n";
    let world = pacsim::world::World::build(&scenario(2, 16, 2, &w, crash));
    let operator =
        world.supervisor.as_ref().expect("a supervisor")[pacsim::api::addrs::Part::VmOperator];
    let mut records = crate::support::Records::default();
    let driven = pacsim::run::drive(world, &mut records, |_, _, _| true);
    let places: Vec<u64> = (records.0.iter())
        .filter(|r| r.from == operator)
        .filter_map(|r| match &r.event {
            pacsim::event::Event::Supervisor(m) => match &**m {
                pacsim::api::msg::SupMsg::Place { .. } => Some(r.at.0 / 1_000_000_000),
                _ => None,
            },
            _ => None,
        })
        .collect();
    assert_eq!(places, [60]);
    assert_eq!(hosts(&driven.actors, &["during"]), vec![on("esx-02")]);
}

#[test]
fn the_same_supervisor_scenario_gives_the_same_digest() {
    let w = [
        claim("10s", "d", "local-34"),
        vm("20s", "db", "large", "PoweredOn", Some("d")),
        vm("20s", "db2", "large", "PoweredOn", Some("d")),
        vm("20s", "db3", "large", "PoweredOn", Some("d")),
        vm_update("30m", "db", "small", "PoweredOn"),
        load_balancer("40m", "lb"),
    ]
    .concat();
    let crash = "  - {at: 10m, host: esx-03, fault: crash}\n";
    let s = scenario(4, 16, 2, &w, crash);
    assert_eq!(checked(&s).digest, checked(&s).digest);
}

/// A claim and the VM that mounts it, created at the same instant in that
/// order (as from one `include:` file): the VM's create sees the claim,
/// whose provisioning is still in flight, and the VM runs on a host that
/// sees the claim's datastore.
#[test]
fn a_claim_and_its_vm_created_together_both_succeed_in_file_order() {
    let mut w = claim("10s", "data", "local-34");
    w += &vm("10s", "db", "small", "PoweredOn", Some("data"));
    let actors = run(&scenario(4, 16, 2, &w, ""));
    let outcomes = outcomes(&actors);
    assert_eq!(outcomes.len(), 2);
    assert!(outcomes.iter().all(ok), "{outcomes:?}");
    let (host, phase, power) = hosts(&actors, &["db"]).remove(0);
    assert_eq!((phase, power), (VmPhase::Created, PowerState::PoweredOn));
    assert!(
        matches!(host.as_deref(), Some("esx-03" | "esx-04")),
        "{host:?}"
    );
}
