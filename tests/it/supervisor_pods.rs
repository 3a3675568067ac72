//! vSphere Pods end to end: Spherelets, the node controller, the scheduler,
//! WPS and the ReplicaSet controller in a whole simulated world, with exact
//! outcomes (NotReady and eviction times, bindings, Pending reasons).

use pacsim::actors::WorldActor;
use pacsim::api::Verb;
use pacsim::api::addrs::{Addrs, Part};
use pacsim::api::msg::{SupMsg, SystemOp};
use pacsim::api::objects::*;
use pacsim::event::{Event, Record};
use pacsim::model::{HostId, Resources, SimDuration, SimTime};
use pacsim::run::drive;
use pacsim::scenario::*;
use pacsim::scenario::{Scenario, parse_scenario};
use pacsim::supervisor::actors::SupActor;
use pacsim::world::World;
use std::collections::BTreeMap;

const SEC: u64 = 1_000_000_000;

use crate::support::Records;

/// Kubelet defaults, pods up 5 s after their start, one unlimited
/// namespace `demo`, three small control-plane VMs.
fn config(node_taints: Vec<(HostId, Taint)>) -> SupervisorConfig {
    SupervisorConfig {
        control_plane: ControlPlaneConfig {
            vms: 3,
            size: Resources::cores(1, 4),
            boot: pacsim::model::Dist::Fixed(60 * SEC),
        },
        spherelet: SphereletConfig {
            heartbeat_interval: SimDuration::from_secs(10),
            node_grace_period: SimDuration::from_secs(40),
            not_ready_toleration: SimDuration::from_secs(300),
            pod_start_latency: pacsim::model::Dist::Fixed(5 * SEC),
        },
        network: NetworkConfig {
            segment_size: 64,
            pod_cidr_base: [10, 244, 0, 0],
            network_size: 4096,
            vip_base: [192, 168, 0, 10],
            vip_count: 4,
        },
        datastores: Vec::new(),
        storage_policies: Vec::new(),
        users: Vec::new(),
        namespaces: vec![NamespaceConfig::new("demo")],
        node_taints,
        objects: Vec::new(),
        guest_clusters: Default::default(),
        cluster: 0,
    }
}

/// A plain scenario (datacenter, faults) with the Supervisor added and the
/// administrator creating `objects` at the given times.
fn scenario(yaml: &str, config: SupervisorConfig, mut objects: Vec<(u64, Object)>) -> Scenario {
    objects.sort_by_key(|(at, _)| *at); // stable: file order at equal times
    let mut s = parse_scenario(yaml, "<inline>").unwrap_or_else(|e| panic!("{e}"));
    s.supervisor = Some(Box::new(config));
    s.workloads.manifests.calls = objects
        .into_iter()
        .map(|(at, object)| TimedCall {
            at: SimTime(at * SEC),
            user: ADMIN_USER.into(),
            verb: Verb::Create,
            object,
            cluster: None,
        })
        .collect();
    s
}

struct Run {
    records: Vec<Record>,
    actors: Vec<WorldActor>,
    addrs: Addrs,
}

impl Run {
    fn new(s: &Scenario) -> Run {
        let world = World::build(s);
        let addrs = world.supervisor.clone().expect("a supervisor");
        let mut sink = Records::default();
        let driven = drive(world, &mut sink, |_, _, _| true);
        Run {
            records: sink.0,
            actors: driven.actors,
            addrs,
        }
    }

    fn part(&self, id: pacsim::model::ActorId) -> &SupActor {
        match &self.actors[id.0 as usize] {
            WorldActor::Supervisor(c) => &c.actor,
            _ => panic!("not a Supervisor part"),
        }
    }

    /// Every pod in the API store: name -> (node, phase, reason).
    fn pods(&self) -> BTreeMap<String, (Option<String>, PodPhase, Option<String>)> {
        let SupActor::ApiServer(api) = self.part(self.addrs[Part::ApiServer]) else {
            panic!("not the API server");
        };
        api.objects()
            .filter_map(|o| match &o.body {
                Body::Pod(p) => Some((
                    o.meta.name.clone(),
                    (p.node.clone(), p.phase, p.reason.clone()),
                )),
                _ => None,
            })
            .collect()
    }

    /// The system writes of `from`, with their times.
    fn writes(&self, from: pacsim::model::ActorId) -> Vec<(SimTime, SystemOp)> {
        self.records
            .iter()
            .filter(|r| r.from == from)
            .filter_map(|r| match &r.event {
                Event::Supervisor(m) => match &**m {
                    SupMsg::System { op, .. } => Some((r.at, op.clone())),
                    _ => None,
                },
                _ => None,
            })
            .collect()
    }
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn pod_spec(cores: u64, gib: u64) -> PodSpec {
    PodSpec {
        requests: Resources::cores(cores, gib),
        ..PodSpec::default()
    }
}

fn pod(name: &str, lbls: &[(&str, &str)], spec: PodSpec) -> Object {
    Object {
        meta: Meta {
            name: name.into(),
            namespace: "demo".into(),
            labels: labels(lbls),
            ..Meta::default()
        },
        body: Body::Pod(Pod {
            spec,
            node: None,
            phase: PodPhase::Pending,
            reason: None,
            ip: None,
            started: None,
        }),
    }
}

fn replica_set(name: &str, replicas: u32, spec: PodSpec) -> Object {
    Object {
        meta: Meta {
            name: name.into(),
            namespace: "demo".into(),
            ..Meta::default()
        },
        body: Body::ReplicaSet(ReplicaSet {
            replicas,
            template_labels: labels(&[("app", name)]),
            template: spec,
            revision: 0,
            annotations: Default::default(),
        }),
    }
}

const DC4: &str = "
datacenter:
  host_models:
    - { name: r650, cpu: 16, memory: 64Gi }
  clusters:
    - name: cl-01
      hosts:
        - { model: r650, count: 4 }
";

/// ReplicaSet `web` (4 pods of 2 cores, created at 60 s; web-0 lands on
/// esx-01) on four hosts, esx-01 partitioned at 3605 s for `duration`.
fn web_with_esx01_cut_off_at_3605s_for(duration: &str) -> Run {
    let s = scenario(
        &format!(
            "seed: 3\nduration: 2h\n{DC4}
placement: {{ policy: drs }}
faults:
  - {{ at: 3605s, hosts: [esx-01], fault: partition, duration: {duration} }}
"
        ),
        config(Vec::new()),
        vec![(60, replica_set("web", 4, pod_spec(2, 4)))],
    );
    Run::new(&s)
}

#[test]

fn a_partitioned_node_goes_not_ready_at_last_heartbeat_plus_40s_and_its_pods_are_evicted_300s_later_and_recreated()
 {
    // Heartbeats at 0, 10, ... s; the partition starts at 3605 s, so the
    // last heartbeat is the one at 3600 s.
    let run = web_with_esx01_cut_off_at_3605s_for("30m");
    let nc = run.writes(run.addrs[Part::NodeController]);
    let esx01_status: Vec<(SimTime, bool)> = nc
        .iter()
        .filter_map(|(t, op)| match op {
            SystemOp::NodeStatus { node, ready } if node == "esx-01" => Some((*t, *ready)),
            _ => None,
        })
        .collect();
    // NotReady at 3600 + 40 s; Ready again at the first heartbeat after the
    // heal at 3605 + 1800 s (the loop restarts at once).
    assert_eq!(
        esx01_status,
        vec![(SimTime(3640 * SEC), false), (SimTime(5405 * SEC), true)]
    );
    let evictions: Vec<(SimTime, String)> = nc
        .iter()
        .filter_map(|(t, op)| match op {
            SystemOp::Delete(k) => Some((*t, k.name.clone())),
            _ => None,
        })
        .collect();
    // Spread by least-allocated, ties by name: web-0 went to esx-01.
    assert_eq!(evictions, vec![(SimTime(3940 * SEC), "web-0".to_string())]);

    let pods = run.pods();
    let on: Vec<(&str, Option<&str>, PodPhase)> = pods
        .iter()
        .map(|(n, (node, phase, _))| (n.as_str(), node.as_deref(), *phase))
        .collect();
    assert_eq!(
        on,
        vec![
            ("web-1", Some("esx-02"), PodPhase::Running),
            ("web-2", Some("esx-03"), PodPhase::Running),
            ("web-3", Some("esx-04"), PodPhase::Running),
            // Recreated at the eviction, on the emptiest Ready node.
            ("web-4", Some("esx-02"), PodPhase::Running),
        ]
    );
    let created_web4 = run
        .writes(run.addrs[Part::ReplicaSetController])
        .into_iter()
        .find_map(|(t, op)| match op {
            SystemOp::Create(o) if o.meta.name == "web-4" => Some(t),
            _ => None,
        });
    assert_eq!(created_web4, Some(SimTime(3940 * SEC)));
    // Nothing of the evicted pod is left on esx-01's Spherelet.
    let SupActor::Spherelet(sp) = run.part(run.addrs.spherelets[0]) else {
        panic!()
    };
    assert_eq!(sp.pods().count(), 0);
}

/// Cut off for two minutes: long enough for placement to declare the host
/// failed, too short for an eviction. At the heal the host is fenced (HA
/// restarted its VMs elsewhere; a pod's CRX is not restarted), so its
/// Spherelet reports the pod Failed and the ReplicaSet replaces it,
/// instead of a pod object left Running with no CRX behind it.
#[test]
fn a_pod_whose_crx_was_fenced_during_a_short_partition_is_reported_failed_and_replaced() {
    let run = web_with_esx01_cut_off_at_3605s_for("2m");
    let pods = run.pods();
    let fenced = "NodeLost: vSphere HA powered the pod's CRX off while its host was cut off";
    assert_eq!(
        pods.get("web-0"),
        Some(&(
            Some("esx-01".to_string()),
            PodPhase::Failed,
            Some(fenced.to_string())
        ))
    );
    let running = pods
        .values()
        .filter(|(_, phase, _)| *phase == PodPhase::Running)
        .count();
    assert_eq!(running, 4, "{pods:?}");
    // Reported when the host could reach the API again, at the heal.
    let reported = run
        .writes(run.addrs.spherelets[0])
        .into_iter()
        .find_map(|(t, op)| match op {
            SystemOp::PodStatus {
                pod,
                phase: PodPhase::Failed,
                ..
            } if pod.name == "web-0" => Some(t),
            _ => None,
        });
    assert_eq!(reported, Some(SimTime(3725 * SEC)));
    let SupActor::Spherelet(sp) = run.part(run.addrs.spherelets[0]) else {
        panic!()
    };
    assert!(sp.pods().all(|p| p.name != "web-0"));
}

#[test]

fn taints_node_selectors_and_anti_affinity_are_respected_and_a_pod_that_fits_nowhere_stays_pending_with_the_reason()
 {
    let gpu = Taint {
        key: "dedicated".into(),
        value: "gpu".into(),
        effect: TaintEffect::NoSchedule,
    };
    let dc3 = "
datacenter:
  host_models:
    - { name: r650, cpu: 16, memory: 64Gi }
  clusters:
    - name: cl-01
      hosts:
        - { model: r650, count: 3 }
";
    let mut pinned = pod_spec(1, 1);
    pinned.node_selector = labels(&[("kubernetes.io/hostname", "esx-02")]);
    let mut gpu_job = pod_spec(1, 1);
    gpu_job.tolerations.push(Toleration {
        key: "dedicated".into(),
        operator: TolerationOperator::Exists,
        value: String::new(),
        effect: None,
    });
    gpu_job.node_selector = labels(&[("kubernetes.io/hostname", "esx-03")]);
    let mut spread = pod_spec(1, 1);
    spread
        .affinity
        .pod_anti_required
        .push(labels(&[("app", "spread")]));
    let s = scenario(
        &format!("seed: 1\nduration: 10m\n{dc3}placement: {{ policy: drs }}\n"),
        config(vec![(HostId(2), gpu)]),
        vec![
            (30, pod("big", &[], pod_spec(16, 1))),
            (10, pod("pinned", &[], pinned)),
            (10, pod("gpu-job", &[], gpu_job)),
            (20, replica_set("spread", 3, spread)),
        ],
    );
    let run = Run::new(&s);
    let pods = run.pods();
    let get = |n: &str| {
        pods.get(n)
            .cloned()
            .unwrap_or_else(|| panic!("{n}: {pods:?}"))
    };
    assert_eq!(get("pinned").0.as_deref(), Some("esx-02"));
    assert_eq!(get("pinned").1, PodPhase::Running);
    assert_eq!(get("gpu-job").0.as_deref(), Some("esx-03"));
    // One per host for app=spread; the gpu node is tainted.
    let spread_nodes: Vec<Option<String>> = ["spread-0", "spread-1", "spread-2"]
        .iter()
        .map(|n| get(n).0)
        .collect();
    assert_eq!(
        spread_nodes,
        vec![Some("esx-01".into()), Some("esx-02".into()), None]
    );
    assert_eq!(
        get("spread-2").2.as_deref(),
        Some(
            "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 2 node(s) didn't match pod anti-affinity rules."
        )
    );
    assert_eq!(get("spread-2").1, PodPhase::Pending);
    assert_eq!(
        get("big"),
        (
            None,
            PodPhase::Pending,
            Some(
                "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 2 Insufficient cpu."
                    .into()
            )
        )
    );
}
