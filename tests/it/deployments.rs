//! Deployments in a whole simulated Supervisor: the Deployment controller
//! makes a ReplicaSet per template and moves the pods to the newest one,
//! within the strategy's bounds at every instant.

use crate::support::{Records, api};
use pacsim::api::msg::SupMsg;
use pacsim::api::objects::{Body, Kind, PodPhase};
use pacsim::event::Event;
use pacsim::model::SimTime;
use pacsim::run::drive;
use pacsim::scenario::parse_scenario;
use pacsim::world::World;
use std::collections::BTreeMap;

/// A Deployment `web` of 4 pods (1 core each) created at 5m, whose
/// template (its cpu request) changes at 20m; `strategy` is its
/// `spec.strategy` YAML.
fn scenario(strategy: &str) -> String {
    let deployment = |cpu: &str| {
        format!(
            "
        apiVersion: apps/v1
        kind: Deployment
        metadata: {{name: web, namespace: web}}
        spec:
          replicas: 4
          strategy: {strategy}
          selector: {{matchLabels: {{app: web}}}}
          template:
            metadata: {{labels: {{app: web}}}}
            spec:
              containers: [{{name: c, image: nginx, resources: {{requests: {{cpu: {cpu}, memory: 1Gi}}}}}}]"
        )
    };
    format!(
        "name: rollout
seed: 5
duration: 1h
datacenter:
  host_models: [{{name: r650, cpu: 32, memory: 256Gi}}]
  clusters: [{{name: wcp, hosts: [{{model: r650, count: 3}}]}}]
supervisor:
  control_plane: {{vms: 3, cpu: 4, memory: 16Gi, boot: 2m}}
  spherelet: {{pod_start_latency: \"uniform(2s, 8s)\"}}
  users: [{{name: alice, groups: [devs]}}]
  namespaces:
    - name: web
      permissions: [{{group: devs, role: edit}}]
workloads:
  manifests:
    - at: 5m
      user: alice
      object:{}
    - at: 20m
      user: alice
      update:{}
",
        deployment("\"1\""),
        deployment("1500m")
    )
}

/// The Deployment's pods as the ReplicaSet controller saw them change:
/// after each change, (time, active pods, Running pods, their sets).
struct Seen {
    /// (at, pods not finished, of those Running, sets with active pods)
    steps: Vec<(SimTime, usize, usize, usize)>,
    /// The first time a pod of a second set existed.
    second_set_at: Option<SimTime>,
}

fn watch_pods(records: &[pacsim::event::Record]) -> Seen {
    let mut pods: BTreeMap<String, (String, PodPhase)> = BTreeMap::new();
    let mut seen = Seen {
        steps: Vec::new(),
        second_set_at: None,
    };
    let mut sets_ever: Vec<String> = Vec::new();
    for r in records {
        let Event::Supervisor(msg) = &r.event else {
            continue;
        };
        let SupMsg::Changed {
            object, deleted, ..
        } = &**msg
        else {
            continue;
        };
        let (Body::Pod(p), Some(owner)) = (&object.body, &object.meta.owner) else {
            continue;
        };
        if !owner.starts_with("web-") {
            continue;
        }
        if *deleted {
            if pods.remove(&object.meta.name).is_none() {
                continue;
            }
        } else {
            let before = pods.insert(object.meta.name.clone(), (owner.clone(), p.phase));
            if before == Some((owner.clone(), p.phase)) {
                continue;
            }
        }
        if !sets_ever.contains(owner) {
            sets_ever.push(owner.clone());
            if sets_ever.len() == 2 {
                seen.second_set_at = Some(r.at);
            }
        }
        let active: Vec<&(String, PodPhase)> = pods
            .values()
            .filter(|(_, ph)| !matches!(ph, PodPhase::Succeeded | PodPhase::Failed))
            .collect();
        let running = active
            .iter()
            .filter(|(_, ph)| *ph == PodPhase::Running)
            .count();
        let mut sets: Vec<&String> = active.iter().map(|(s, _)| s).collect();
        sets.dedup();
        sets.sort();
        sets.dedup();
        seen.steps.push((r.at, active.len(), running, sets.len()));
    }
    seen
}

fn run(strategy: &str) -> (Seen, pacsim::run::Driven) {
    let s = parse_scenario(&scenario(strategy), "rollout.yaml").unwrap();
    let mut records = Records(Vec::new());
    let out = drive(World::build(&s), &mut records, |_, _, _| true);
    (watch_pods(&records.0), out)
}

/// The Deployment's ReplicaSets at the end: (revision, replicas, hash label).
fn sets_at_end(out: &pacsim::run::Driven) -> Vec<(u64, u32, String)> {
    let mut sets: Vec<(u64, u32, String)> = api(&out.actors)
        .objects()
        .filter(|o| o.kind() == Kind::ReplicaSet && o.meta.owner.as_deref() == Some("web"))
        .map(|o| {
            let Body::ReplicaSet(rs) = &o.body else {
                unreachable!()
            };
            assert_eq!(
                o.meta.name,
                format!("web-{}", rs.template_labels["pod-template-hash"])
            );
            (rs.revision, rs.replicas, o.meta.name.clone())
        })
        .collect();
    sets.sort();
    sets
}

#[test]
fn a_template_change_rolls_out_within_surge_and_unavailability() {
    let (seen, out) = run("{}");
    // Revision 1 kept at 0 for undo; revision 2 holds the 4 pods.
    let sets = sets_at_end(&out);
    assert_eq!(sets.len(), 2, "{sets:?}");
    assert_eq!((sets[0].0, sets[0].1), (1, 0));
    assert_eq!((sets[1].0, sets[1].1), (2, 4));
    let last = seen.steps.last().unwrap();
    assert_eq!((last.1, last.2, last.3), (4, 4, 1), "all new, all Running");
    // During the rollout (25 % of 4: one above, one below): never more
    // than 5 pods, never fewer than 3 Running, and both sets at once.
    let start = seen.second_set_at.expect("a second ReplicaSet made pods");
    assert!(start >= SimTime(20 * 60 * 1_000_000_000));
    let during: Vec<_> = seen.steps.iter().filter(|s| s.0 >= start).collect();
    assert!(during.iter().all(|s| s.1 <= 5), "{during:?}");
    assert!(during.iter().all(|s| s.2 >= 3), "{during:?}");
    assert!(during.iter().any(|s| s.3 == 2), "{during:?}");
}

#[test]
fn recreate_removes_every_old_pod_before_a_new_one_exists() {
    let (seen, out) = run("{type: Recreate}");
    let sets = sets_at_end(&out);
    assert_eq!(
        sets.iter().map(|s| (s.0, s.1)).collect::<Vec<_>>(),
        [(1, 0), (2, 4)]
    );
    // Never two sets' pods at once.
    assert!(seen.steps.iter().all(|s| s.3 <= 1));
    let start = seen.second_set_at.unwrap();
    let before = seen
        .steps
        .iter()
        .rev()
        .find(|s| s.0 < start || s.3 == 0)
        .unwrap();
    assert_eq!(
        before.1, 0,
        "old pods left when the new ones came: {before:?}"
    );
}
