//! The VM Operator, NSX and CNS end to end: VirtualMachines placed by the
//! DRS-like policy under their storage's host constraint, address and VIP
//! exhaustion at the API, and capacity freed by power-off, deletion and
//! resize. Each test runs a scenario (with every invariant checked after
//! every event) and reads the final actors.

use pacsim::actors::{Placement, WorldActor};
use pacsim::model::resources::GIB;
use pacsim::model::{HostId, Resources, SimTime, VmId};
use pacsim::run::{drive, simulate_checked};
use pacsim::scenario::{Scenario, parse_scenario};
use pacsim::store::EventLog;
use pacsim::supervisor::actors::SupActor;
use pacsim::supervisor::api_server::ApiServer;
use pacsim::supervisor::clients::CallOutcome;
use pacsim::supervisor::config::*;
use pacsim::supervisor::msg::ApiError;
use pacsim::supervisor::network::Network;
use pacsim::supervisor::objects::*;
use pacsim::supervisor::storage::Storage;
use pacsim::supervisor::vm_operator::{Life, VmOperator};
use pacsim::world::World;
use std::collections::BTreeMap;

const SEC: u64 = 1_000_000_000;
const NS: &str = "team-a";

/// `hosts` hosts of 16 cores and 64 GiB, DRS, no HA.
/// `calls` are sorted by time (stable), as the parser leaves them.
fn scenario(hosts: usize, config: SupervisorConfig, mut calls: Vec<TimedCall>) -> Scenario {
    calls.sort_by_key(|c| c.at);
    let text = format!(
        "seed: 3\nduration: 2h
datacenter:
  host_models:
    - {{ name: r650, cpu: 16, memory: 64Gi }}
  clusters:
    - name: wcp
      hosts:
        - {{ model: r650, count: {hosts} }}
placement: {{ policy: drs }}
"
    );
    let mut s = parse_scenario(&text, "<inline>").unwrap_or_else(|e| panic!("{e}"));
    s.supervisor = Some(Box::new(config));
    s.workloads.manifests.calls = calls;
    s
}

fn object(ns: &str, name: &str, body: Body) -> Object {
    Object {
        meta: Meta {
            name: name.into(),
            namespace: ns.into(),
            ..Meta::default()
        },
        body,
    }
}

fn class(name: &str, cores: u64, gib: u64, guaranteed: bool) -> Object {
    let hardware = Resources::cores(cores, gib);
    let requests = if guaranteed {
        hardware
    } else {
        Resources::ZERO
    };
    object(
        "",
        name,
        Body::VirtualMachineClass(VirtualMachineClass { hardware, requests }),
    )
}

/// Datastores: `shared` on every host, `local-34` only on esx-03 and
/// esx-04; storage classes of the same names map to policies of the same
/// names. Classes: small (2 cores, 8Gi), large (12, 48Gi), both
/// guaranteed, and best-effort (2, 8Gi, no reservation).
fn config(hosts: u32, segment_size: u32, vip_count: u32) -> SupervisorConfig {
    let datastore = |name: &str, hosts: Vec<u32>| DatastoreConfig {
        name: name.into(),
        capacity_bytes: 1 << 40,
        hosts: hosts.into_iter().map(HostId).collect(),
    };
    let policy = |name: &str, ds: usize| StoragePolicyConfig {
        name: name.into(),
        datastores: vec![ds],
    };
    let storage_class = |name: &str| {
        object(
            "",
            name,
            Body::StorageClass(StorageClass {
                storage_policy: name.into(),
            }),
        )
    };
    SupervisorConfig {
        control_plane: ControlPlaneConfig {
            vms: 0,
            size: Resources::cores(4, 16),
            boot: pacsim::model::Dist::Fixed(0),
        },
        spherelet: SphereletConfig {
            heartbeat_interval: pacsim::model::SimDuration(10 * SEC),
            node_grace_period: pacsim::model::SimDuration(40 * SEC),
            not_ready_toleration: pacsim::model::SimDuration(300 * SEC),
            pod_start_latency: pacsim::model::Dist::Fixed(SEC),
        },
        network: NetworkConfig {
            segment_size,
            pod_cidr_base: [10, 244, 0, 0],
            vip_base: [192, 168, 100, 10],
            vip_count,
        },
        datastores: vec![
            datastore("shared", (0..hosts).collect()),
            datastore("local-34", vec![2, 3]),
        ],
        storage_policies: vec![policy("shared", 0), policy("local-34", 1)],
        users: Vec::new(),
        namespaces: vec![NamespaceConfig {
            name: NS.into(),
            cpu_limit_millis: None,
            memory_limit_bytes: None,
            storage_limit_bytes: None,
            vm_classes: vec!["small".into(), "large".into(), "best-effort".into()],
            storage_classes: vec!["shared".into(), "local-34".into()],
            permissions: Vec::new(),
        }],
        node_taints: Vec::new(),
        objects: vec![
            class("small", 2, 8, true),
            class("large", 12, 48, true),
            class("best-effort", 2, 8, false),
            object(
                "",
                "ubuntu",
                Body::VirtualMachineImage(VirtualMachineImage {
                    disk_bytes: 20 * GIB,
                }),
            ),
            storage_class("shared"),
            storage_class("local-34"),
        ],
    }
}

fn vm(name: &str, class: &str, power: PowerState, volumes: &[&str]) -> Object {
    let storage_class = if volumes.is_empty() {
        "shared"
    } else {
        "local-34"
    };
    object(
        NS,
        name,
        Body::VirtualMachine(VirtualMachine {
            class_name: class.into(),
            image_name: "ubuntu".into(),
            storage_class: storage_class.into(),
            power_state: power,
            volumes: volumes.iter().map(|v| v.to_string()).collect(),
            phase: VmPhase::Creating,
            actual_power: PowerState::PoweredOff,
            host: None,
            ip: None,
            reason: None,
        }),
    )
}

fn claim(name: &str, storage_class: &str) -> Object {
    object(
        NS,
        name,
        Body::PersistentVolumeClaim(PersistentVolumeClaim {
            storage_class: storage_class.into(),
            bytes: 100 * GIB,
            datastore: None,
        }),
    )
}

fn load_balancer(name: &str) -> Object {
    object(
        NS,
        name,
        Body::Service(Service {
            load_balancer: true,
            selector: BTreeMap::new(),
            vip: None,
        }),
    )
}

fn call(at_secs: u64, verb: Verb, object: Object) -> TimedCall {
    TimedCall {
        at: SimTime(at_secs * SEC),
        user: ADMIN_USER.into(),
        verb,
        object,
    }
}

/// Runs `s` with every invariant checked after every event, then again
/// recorded to read the final actors.
fn run(s: &Scenario) -> Vec<WorldActor> {
    checked_summary(s);
    drive(World::build(s), &mut EventLog::in_memory(), |_, _, _| true).actors
}

/// The `--json` summary of a run checked after every event.
fn checked_summary(s: &Scenario) -> serde_json::Value {
    let mut out = simulate_checked(s, EventLog::in_memory(), true, |_, _| {}).unwrap();
    if let Some(v) = &out.violation {
        panic!("{v}");
    }
    out.summary(s, 1.0).to_json()
}

fn part<'a, T>(actors: &'a [WorldActor], pick: impl Fn(&'a SupActor) -> Option<&'a T>) -> &'a T {
    actors
        .iter()
        .find_map(|a| match a {
            WorldActor::Supervisor(s) => pick(&s.actor),
            _ => None,
        })
        .expect("the part exists")
}

fn api(actors: &[WorldActor]) -> &ApiServer {
    part(actors, |a| match a {
        SupActor::ApiServer(x) => Some(x),
        _ => None,
    })
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
    // Four empty hosts: DRS would spread four VMs one per host, but the
    // three with a claim on local-34 (esx-03, esx-04) stay there.
    let mut calls = Vec::new();
    for (i, c) in ["data-0", "data-1", "data-2"].into_iter().enumerate() {
        calls.push(call(10, Verb::Create, claim(c, "local-34")));
        let name = format!("db-{i}");
        calls.push(call(
            20,
            Verb::Create,
            vm(&name, "small", PowerState::PoweredOn, &[c]),
        ));
    }
    calls.push(call(
        30,
        Verb::Create,
        vm("web", "small", PowerState::PoweredOn, &[]),
    ));
    let actors = run(&scenario(4, config(4, 16, 2), calls.clone()));
    assert!(outcomes(&actors).iter().all(ok), "{:?}", outcomes(&actors));
    assert_eq!(
        hosts(&actors, &["db-0", "db-1", "db-2", "web"]),
        vec![on("esx-03"), on("esx-04"), on("esx-03"), on("esx-01")]
    );
    let ds = storage(&actors).datastore("local-34").unwrap();
    assert_eq!((ds.used_bytes, ds.capacity_bytes), (300 * GIB, 1 << 40));
    for name in ["db-0", "db-1", "db-2"] {
        let (host, size) = placed(&actors, name).unwrap();
        assert!(host == HostId(2) || host == HostId(3), "{name} on {host:?}");
        assert_eq!(size, Resources::cores(2, 8));
    }
    // VMs got addresses from the namespace's segment, lowest first.
    assert_eq!(
        network(&actors).addresses(NS),
        vec!["10.244.0.2", "10.244.0.3", "10.244.0.4", "10.244.0.5"]
    );
    assert!(status(&actors, "web").conditions().iter().all(|c| c.status));

    let json = checked_summary(&scenario(4, config(4, 16, 2), calls));
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
    let calls = vec![
        call(10, Verb::Create, claim("d", "local-34")),
        call(
            20,
            Verb::Create,
            vm("big-0", "large", PowerState::PoweredOn, &["d"]),
        ),
        call(
            20,
            Verb::Create,
            vm("big-1", "large", PowerState::PoweredOn, &["d"]),
        ),
        call(
            20,
            Verb::Create,
            vm("big-2", "large", PowerState::PoweredOn, &["d"]),
        ),
    ];
    let mut waiting = calls.clone();
    let actors = run(&scenario(4, config(4, 16, 2), calls));
    assert_eq!(
        hosts(&actors, &["big-0", "big-1"]),
        vec![on("esx-03"), on("esx-04")]
    );
    let v = status(&actors, "big-2");
    assert_eq!((v.phase, v.host.as_deref()), (VmPhase::Unplaceable, None));
    assert!(
        v.reason.as_deref().unwrap().contains("2 allowed host"),
        "{v:?}"
    );
    assert!(
        operator(&actors)
            .view(&key("big-2"))
            .unwrap()
            .waiting_for_retry
    );

    waiting.push(call(
        600,
        Verb::Delete,
        vm("big-0", "large", PowerState::PoweredOn, &[]),
    ));
    let actors = run(&scenario(4, config(4, 16, 2), waiting));
    assert_eq!(
        hosts(&actors, &["big-1", "big-2"]),
        vec![on("esx-04"), on("esx-03")]
    );
    assert!(api(&actors).get(&key("big-0")).is_none());
}

#[test]
fn namespace_ip_exhaustion_fails_the_create_with_the_segment_and_a_delete_frees_an_address() {
    // A /29: 8 addresses, 5 usable.
    let mut calls: Vec<TimedCall> = (0..6)
        .map(|i| {
            let v = vm(&format!("v{i}"), "best-effort", PowerState::PoweredOff, &[]);
            call(10 + i, Verb::Create, v)
        })
        .collect();
    calls.push(call(
        100,
        Verb::Delete,
        vm("v1", "best-effort", PowerState::PoweredOff, &[]),
    ));
    calls.push(call(
        110,
        Verb::Create,
        vm("v6", "best-effort", PowerState::PoweredOff, &[]),
    ));
    let actors = run(&scenario(2, config(2, 8, 2), calls));
    let out = outcomes(&actors);
    assert!(out[..5].iter().all(ok), "{out:?}");
    assert_eq!(
        out[5],
        CallOutcome::Refused(ApiError::IpExhausted(
            "no free address in segment 10.244.0.0/29 of namespace team-a (5 in use)".into()
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
    let calls = vec![
        call(10, Verb::Create, load_balancer("a")),
        call(11, Verb::Create, load_balancer("b")),
        call(12, Verb::Create, load_balancer("c")),
        call(20, Verb::Delete, load_balancer("a")),
        call(21, Verb::Create, load_balancer("d")),
    ];
    let actors = run(&scenario(2, config(2, 16, 2), calls));
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
    let calls = vec![
        call(
            10,
            Verb::Create,
            vm("a", "large", PowerState::PoweredOn, &[]),
        ),
        call(
            10,
            Verb::Create,
            vm("b", "large", PowerState::PoweredOn, &[]),
        ),
        call(
            10,
            Verb::Create,
            vm("c", "large", PowerState::PoweredOn, &[]),
        ),
        call(
            1000,
            Verb::Update,
            vm("a", "large", PowerState::PoweredOff, &[]),
        ),
    ];
    let actors = run(&scenario(2, config(2, 16, 2), calls));
    assert!(outcomes(&actors).iter().all(ok));
    assert_eq!(
        hosts(&actors, &["a", "b", "c"]),
        vec![
            (None, VmPhase::Created, PowerState::PoweredOff),
            on("esx-02"),
            on("esx-01"),
        ]
    );
    assert_eq!(placed(&actors, "a"), None);
    let used: Vec<Resources> = placement(&actors).host_beliefs().map(|b| b.used).collect();
    assert_eq!(used, vec![Resources::cores(12, 48); 2]);
    // c's last failure was at 10 s; with backoff its next timer is after
    // 1000 s only by chance: it went because a's power-off freed the host.
    let view = operator(&actors).view(&key("c")).unwrap();
    assert!(matches!(view.life, Life::Running { .. }) && !view.waiting_for_retry);
}

#[test]
fn suspending_and_powering_on_again_moves_between_hosts_as_drs_decides() {
    let calls = vec![
        call(
            10,
            Verb::Create,
            vm("a", "small", PowerState::PoweredOn, &[]),
        ),
        call(
            20,
            Verb::Create,
            vm("b", "small", PowerState::PoweredOn, &[]),
        ),
        call(
            30,
            Verb::Update,
            vm("a", "small", PowerState::Suspended, &[]),
        ),
        call(
            40,
            Verb::Create,
            vm("c", "large", PowerState::PoweredOn, &[]),
        ),
        call(
            50,
            Verb::Update,
            vm("a", "small", PowerState::PoweredOn, &[]),
        ),
    ];
    let actors = run(&scenario(2, config(2, 16, 2), calls));
    // a on esx-01, b on esx-02; a suspended frees esx-01 for c; a powered
    // on again goes where DRS finds the lower load: esx-02.
    assert_eq!(
        hosts(&actors, &["a", "b", "c"]),
        vec![on("esx-02"), on("esx-02"), on("esx-01")]
    );
}

#[test]
fn deleting_a_vm_frees_its_capacity_and_its_address() {
    let calls = vec![
        call(
            10,
            Verb::Create,
            vm("a", "large", PowerState::PoweredOn, &[]),
        ),
        call(
            10,
            Verb::Create,
            vm("b", "large", PowerState::PoweredOn, &[]),
        ),
        call(
            20,
            Verb::Delete,
            vm("a", "large", PowerState::PoweredOn, &[]),
        ),
        call(
            20,
            Verb::Delete,
            vm("b", "large", PowerState::PoweredOn, &[]),
        ),
    ];
    let actors = run(&scenario(1, config(1, 16, 2), calls));
    // One host: b never fitted; both deletions leave nothing behind.
    assert!(outcomes(&actors).iter().all(ok));
    assert_eq!(placement(&actors).placed().count(), 0);
    assert_eq!(
        placement(&actors).host_beliefs().next().unwrap().used,
        Resources::ZERO
    );
    assert!(network(&actors).addresses(NS).is_empty());
    assert!(operator(&actors).view(&key("a")).is_none());
}

#[test]
fn a_class_change_resizes_a_running_vm() {
    let calls = vec![
        call(
            10,
            Verb::Create,
            vm("a", "small", PowerState::PoweredOn, &[]),
        ),
        call(
            100,
            Verb::Update,
            vm("a", "large", PowerState::PoweredOn, &[]),
        ),
    ];
    let actors = run(&scenario(2, config(2, 16, 2), calls));
    assert_eq!(hosts(&actors, &["a"]), vec![on("esx-01")]);
    assert_eq!(
        placed(&actors, "a"),
        Some((HostId(0), Resources::cores(12, 48)))
    );
    // The small life is gone: only one workload in placement.
    assert_eq!(placement(&actors).placed().count(), 1);
    assert_eq!(
        api(&actors).namespace_usage().next().unwrap().1.cpu_millis,
        12_000
    );
}

#[test]
fn a_host_crash_restarts_the_vm_elsewhere_and_status_follows() {
    let calls = vec![call(
        10,
        Verb::Create,
        vm("a", "small", PowerState::PoweredOn, &[]),
    )];
    let mut s = scenario(2, config(2, 16, 2), calls);
    let faults = parse_scenario(
        "seed: 1\nduration: 1h
datacenter:
  host_models:
    - { name: r650, cpu: 16, memory: 64Gi }
  clusters:
    - name: wcp
      hosts:
        - { model: r650, count: 2 }
faults:
  - { at: 10m, host: esx-01, fault: crash }
",
        "<faults>",
    )
    .unwrap();
    s.faults = faults.faults;
    let actors = run(&s);
    assert_eq!(hosts(&actors, &["a"]), vec![on("esx-02")]);
    assert_eq!(placed(&actors, "a").unwrap().0, HostId(1));
}

#[test]
fn a_vm_that_ha_finds_no_room_for_is_failed_with_the_reason_and_keeps_retrying() {
    let calls = vec![
        call(
            10,
            Verb::Create,
            vm("a", "large", PowerState::PoweredOn, &[]),
        ),
        call(
            10,
            Verb::Create,
            vm("b", "large", PowerState::PoweredOn, &[]),
        ),
    ];
    let mut s = scenario(2, config(2, 16, 2), calls);
    let faults = parse_scenario(
        "seed: 1\nduration: 1h
datacenter:
  host_models:
    - { name: r650, cpu: 16, memory: 64Gi }
  clusters:
    - name: wcp
      hosts:
        - { model: r650, count: 2 }
faults:
  - { at: 10m, host: esx-01, fault: crash }
",
        "<faults>",
    )
    .unwrap();
    s.faults = faults.faults;
    let actors = run(&s);
    assert_eq!(hosts(&actors, &["b"]), vec![on("esx-02")]);
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

fn sup_fault(at_secs: u64, lasts_secs: Option<u64>, kind: SupervisorFaultKind) -> SupervisorFault {
    SupervisorFault {
        at: SimTime(at_secs * SEC),
        kind,
        lasts: lasts_secs.map(|s| pacsim::model::SimDuration(s * SEC)),
        location: pacsim::scenario::Location { line: 1, col: 1 },
    }
}

#[test]
fn a_datastore_failure_fails_the_vms_on_it_until_the_repair_then_they_run_again() {
    let calls = vec![
        call(10, Verb::Create, claim("d", "local-34")),
        call(
            20,
            Verb::Create,
            vm("db", "small", PowerState::PoweredOn, &["d"]),
        ),
        call(
            20,
            Verb::Create,
            vm("web", "small", PowerState::PoweredOn, &[]),
        ),
    ];
    let mut s = scenario(4, config(4, 16, 2), calls.clone());
    let ds = SupervisorFaultKind::Datastore("local-34".into());
    s.faults.supervisor = vec![sup_fault(600, Some(600), ds.clone())];
    let actors = run(&s);
    assert_eq!(
        hosts(&actors, &["db", "web"]),
        vec![on("esx-03"), on("esx-01")]
    );

    // Never repaired: db is Failed with the reason, web untouched.
    s.faults.supervisor = vec![sup_fault(600, None, ds)];
    let actors = run(&s);
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
    assert_eq!(hosts(&actors, &["web"]), vec![on("esx-01")]);
    assert!(storage(&actors).datastore("local-34").unwrap().failed);
}

#[test]
fn a_vm_operator_crash_loses_nothing_it_cannot_rebuild() {
    // The operator is down from 5 s to 60 s. A VM created before, one
    // created after and a resize after the restart all work, and the
    // state rebuilt from its journal equals its state before the crash.
    let calls = vec![
        call(
            1,
            Verb::Create,
            vm("before", "small", PowerState::PoweredOn, &[]),
        ),
        call(
            100,
            Verb::Create,
            vm("after", "small", PowerState::PoweredOn, &[]),
        ),
        call(
            200,
            Verb::Update,
            vm("before", "large", PowerState::PoweredOn, &[]),
        ),
    ];
    let mut s = scenario(2, config(2, 16, 2), calls);
    s.faults.supervisor = vec![sup_fault(
        5,
        Some(55),
        SupervisorFaultKind::ControlPlaneCrash(vec!["vm-operator".into()]),
    )];
    let actors = run(&s);
    assert_eq!(
        hosts(&actors, &["before", "after"]),
        vec![on("esx-01"), on("esx-02")]
    );
    assert_eq!(
        placed(&actors, "before"),
        Some((HostId(0), Resources::cores(12, 48)))
    );
    let rebuilt = actors.iter().any(|a| match a {
        WorldActor::Supervisor(s) => s.rebuild_mismatch,
        _ => false,
    });
    assert!(
        !rebuilt,
        "a rebuild differed from the state before its crash"
    );
}
