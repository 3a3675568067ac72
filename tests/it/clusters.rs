//! A vSphere cluster is a boundary: VMs go only to the cluster they are
//! deployed into, HA restarts stay in the failed host's cluster, DRS rules
//! and resource pools refuse by name, the Supervisor runs on its own
//! cluster, and `plan --cluster` resizes one cluster.

use crate::support;
use pacsim::model::HostId;
use pacsim::run::RunOutput;
use pacsim::scenario::{Scenario, parse_scenario};
use pacsim::world::World;
use serde_json::json;
use std::collections::BTreeMap;

fn scenario(text: &str) -> Scenario {
    parse_scenario(text, "<clusters>").unwrap_or_else(|e| panic!("{e}"))
}

fn placement(out: &RunOutput) -> &pacsim::actors::Placement {
    match &out.actors[0] {
        pacsim::actors::WorldActor::Placement(p) => p,
        _ => panic!("actor 0 is placement"),
    }
}

/// Host name → the names of the sources whose VMs run there at the end.
fn owners_by_host(s: &Scenario, out: &RunOutput) -> BTreeMap<String, Vec<String>> {
    let names = World::build(s).names;
    let mut m: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for a in placement(out).placed() {
        let host = s.datacenter.hosts[a.host.0 as usize].name.clone();
        m.entry(host)
            .or_default()
            .push(names[a.owner.0 as usize].clone());
    }
    m
}

fn rejected_by_reason(s: &Scenario, out: &mut RunOutput) -> BTreeMap<String, u64> {
    out.summary(s, 0.0).vms.rejected_by_reason
}

const GPU_BOUNDARY: &str = "
seed: 3
duration: 2h
datacenter:
  host_models:
    - {name: std, cpu: 32, memory: 256Gi}
    - {name: gpu, cpu: 32, memory: 256Gi, gpus: 4}
  clusters:
    - name: general
      hosts: [{model: std, count: 2}]
    - name: gpu
      hosts: [{model: gpu, count: 2}]
workloads:
  generators:
    - name: web
      cluster: general
      rate: 1/min
      lifetime: 10h
      sizes: [{cpu: 4, memory: 16Gi}]
    - name: training
      cluster: gpu
      rate: 1/h
      lifetime: 10h
      sizes: [{cpu: 8, memory: 64Gi, gpus: 1}]
";

/// The general cluster fills and refuses web VMs while the GPU cluster has
/// room: its hosts run only the VMs deployed there.
#[test]
fn a_gpu_clusters_hosts_take_only_the_vms_deployed_there() {
    let s = scenario(GPU_BOUNDARY);
    let mut out = support::checked(&s);
    let by_host = owners_by_host(&s, &out);
    for host in ["esx-03", "esx-04"] {
        let owners = by_host.get(host).cloned().unwrap_or_default();
        assert!(
            owners.iter().all(|o| o == "workload/training"),
            "{host} runs {owners:?}"
        );
    }
    for host in ["esx-01", "esx-02"] {
        assert!(by_host[host].iter().all(|o| o == "workload/web"));
    }
    let training = by_host
        .values()
        .flatten()
        .filter(|o| *o == "workload/training");
    assert!(training.count() >= 1);
    let p = placement(&out);
    let gpu_used: u64 = [2, 3]
        .map(|h| p.host_belief(HostId(h)).used.cpu_millis)
        .iter()
        .sum();
    assert!(gpu_used <= 24_000, "the GPU hosts keep room: {gpu_used}");
    let summary = out.summary(&s, 0.0);
    assert!(summary.vms.rejected_by_reason["no_capacity"] > 50);
    // Each cluster's own counts: every rejection is general's.
    let (general, gpu) = (&summary.clusters["general"], &summary.clusters["gpu"]);
    assert_eq!(general.rejected, summary.vms.rejected);
    assert_eq!((gpu.rejected, gpu.lost, gpu.hosts), (0, 0, 2));
    assert_eq!(general.requested + gpu.requested, summary.vms.requested);
}

#[test]
fn with_several_clusters_a_vm_must_name_its_cluster() {
    let text = GPU_BOUNDARY.replace("      cluster: general\n", "");
    let e = parse_scenario(&text, "c.yaml").unwrap_err().to_string();
    assert_eq!(
        e,
        "c.yaml:15:7: the datacenter has 2 clusters (`general`, `gpu`): say which one the generator's VMs go to with `cluster:`"
    );
    let text = GPU_BOUNDARY.replace("cluster: general", "cluster: generl");
    let e = parse_scenario(&text, "c.yaml").unwrap_err().to_string();
    assert!(e.contains("unknown cluster `generl`"), "{e}");
    assert!(e.contains("did you mean `general`?"), "{e}");
}

/// A failed host's VMs restart only in its cluster: the one that no longer
/// fits there is lost, though the other cluster is nearly empty.
#[test]
fn ha_restarts_stay_in_the_failed_hosts_cluster() {
    let s = scenario(
        "
seed: 1
duration: 1h
datacenter:
  host_models: [{name: m, cpu: 16, memory: 64Gi}]
  clusters:
    - name: a
      hosts: [{model: m, count: 2}]
    - name: b
      hosts: [{model: m, count: 2}]
placement: {policy: first-fit}
ha: {restart_delay: 10s}
workloads:
  vms:
    - {name: a-1, cluster: a, cpu: 8, memory: 8Gi}
    - {name: a-2, cluster: a, cpu: 8, memory: 8Gi}
    - {name: a-3, cluster: a, cpu: 8, memory: 8Gi}
    - {name: b-1, cluster: b, cpu: 8, memory: 8Gi}
faults:
  - {at: 10m, host: esx-01, fault: crash}
",
    );
    let mut out = support::checked(&s);
    let summary = out.summary(&s, 0.0);
    assert_eq!((summary.vms.restarted, summary.vms.lost), (1, 1));
    let by_host = owners_by_host(&s, &out);
    assert_eq!(by_host["esx-02"], ["workload/vms@a", "workload/vms@a"]);
    assert_eq!(by_host["esx-03"], ["workload/vms@b"]);
    assert!(!by_host.contains_key("esx-04"));
}

const RULES: &str = "
seed: 1
duration: 1h
datacenter:
  host_models: [{name: m, cpu: 16, memory: 64Gi}]
  clusters:
    - name: c
      hosts: [{model: m, count: 3}]
      host_groups:
        - {name: gpu-hosts, hosts: [esx-03]}
        - {name: first, hosts: [esx-01]}
      rules:
        - {name: train-on-gpus, type: must_run_on, vms: [train-1, train-2], host_group: gpu-hosts}
        - {name: db-apart, type: separate, vms: [db-1, db-2, db-3, db-4]}
        - {name: web-on-first, type: should_run_on, vms: [web-1, web-2], host_group: first}
placement: {policy: drs}
workloads:
  vms:
    - {name: train-1, cpu: 12, memory: 8Gi}
    - {name: train-2, cpu: 12, memory: 8Gi, at: 1m}
    - {name: db-1, cpu: 1, memory: 1Gi, at: 2m}
    - {name: db-2, cpu: 1, memory: 1Gi, at: 2m}
    - {name: db-3, cpu: 1, memory: 1Gi, at: 2m}
    - {name: db-4, cpu: 1, memory: 1Gi, at: 2m}
    - {name: web-1, cpu: 10, memory: 1Gi, at: 3m}
    - {name: web-2, cpu: 10, memory: 1Gi, at: 4m}
";

/// A must rule refuses the VM it cannot place, by name, though other hosts
/// have room; an anti-affinity rule refuses a fourth member on three hosts;
/// a should rule is followed while it can be, then bent.
#[test]
fn drs_rules_refuse_by_name_and_should_rules_bend() {
    let s = scenario(RULES);
    let mut out = support::checked(&s);
    let reasons = rejected_by_reason(&s, &mut out);
    let want: BTreeMap<String, u64> = [
        ("drs_rule:db-apart", 1),
        ("drs_rule:train-on-gpus", 1),
        ("no_capacity", 0),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    assert_eq!(reasons, want);
    let by_host = owners_by_host(&s, &out);
    let count = |host: &str, owner: &str| {
        by_host
            .get(host)
            .map_or(0, |o| o.iter().filter(|x| x.contains(owner)).count())
    };
    assert_eq!(count("esx-03", "+train-on-gpus"), 1);
    // One db VM per host.
    for h in ["esx-01", "esx-02", "esx-03"] {
        assert_eq!(count(h, "+db-apart"), 1, "{h}: {by_host:?}");
    }
    // web-1 follows its should rule to esx-01 (DRS alone would not: esx-02
    // is as empty); web-2 no longer fits there and goes elsewhere.
    assert_eq!(count("esx-01", "+web-on-first"), 1);
    assert_eq!(
        by_host
            .values()
            .flatten()
            .filter(|o| o.contains("+web-on-first"))
            .count(),
        2
    );
}

#[test]
fn the_run_summary_names_the_refusing_rule() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rules.yaml");
    std::fs::write(&path, RULES).unwrap();
    let out = support::pacsim(&["run", path.to_str().unwrap(), "--no-persist"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("drs_rule:db-apart 1, drs_rule:train-on-gpus 1"),
        "{text}"
    );
}

#[test]
fn a_rule_names_vms_of_its_own_cluster() {
    let text = RULES.replace("vms: [db-1, db-2, db-3, db-4]", "vms: [db-1, db-9]");
    let e = parse_scenario(&text, "r.yaml").unwrap_err().to_string();
    assert!(
        e.starts_with(
            "r.yaml:14:56: rule `db-apart` names `db-9`, which is neither a VM nor a generator"
        ),
        "{e}"
    );
    let text = RULES.replace("host_group: gpu-hosts}", "host_group: gpus}");
    let e = parse_scenario(&text, "r.yaml").unwrap_err().to_string();
    assert!(e.contains("unknown host group `gpus`"), "{e}");
}

/// A pool's limit, a non-expandable pool's reservation, and the capacity
/// reservations hold back from VMs outside every pool.
#[test]
fn resource_pools_admit_by_reservation_and_limit() {
    let s = scenario(
        "
seed: 1
duration: 1h
datacenter:
  host_models: [{name: m, cpu: 16, memory: 64Gi}]
  clusters:
    - name: c
      hosts: [{model: m, count: 4}]
      resource_pools:
        - {name: team-a, cpu_limit: 16}
        - {name: team-b, cpu_reservation: 16, memory_reservation: 16Gi, expandable: false}
        - {name: team-c, cpu_reservation: 24}
workloads:
  vms:
    - {name: a-1, resource_pool: team-a, cpu: 8, memory: 1Gi}
    - {name: a-2, resource_pool: team-a, cpu: 8, memory: 1Gi}
    - {name: a-3, resource_pool: team-a, cpu: 8, memory: 1Gi}
    - {name: b-1, resource_pool: team-b, cpu: 8, memory: 1Gi}
    - {name: b-2, resource_pool: team-b, cpu: 8, memory: 1Gi}
    - {name: b-3, resource_pool: team-b, cpu: 8, memory: 1Gi}
    - {name: o-1, cpu: 8, memory: 1Gi, at: 1m}
    - {name: o-2, cpu: 8, memory: 1Gi, at: 2m}
",
    );
    let mut out = support::checked(&s);
    let reasons = rejected_by_reason(&s, &mut out);
    let want: BTreeMap<String, u64> = [
        ("no_capacity", 0),
        ("reserved_by_pools:c", 1),
        ("resource_pool_limit:team-a", 1),
        ("resource_pool_reservation:team-b", 1),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    assert_eq!(reasons, want);
    // o-2 was refused with 24 of 64 cores free on the hosts: team-c's
    // reservation holds them.
    let p = placement(&out);
    let used: u64 = (0..4)
        .map(|h| p.host_belief(HostId(h)).used.cpu_millis)
        .sum();
    assert_eq!(used, 40_000);
}

/// The Supervisor on one cluster of two: Spherelets, nodes and every
/// Supervisor workload on its hosts; the other cluster keeps its own VMs.
#[test]
fn the_supervisor_runs_on_its_cluster_only() {
    let text = std::fs::read_to_string(support::scenario_path("supervisor-basic.yaml")).unwrap();
    let text = text
        .replace(
            "  clusters:\n    - name: wcp\n",
            "  clusters:\n    - name: mgmt\n      hosts:\n        - { model: r650, names: [mgmt-1, mgmt-2] }\n    - name: wcp\n",
        )
        .replace("supervisor:\n", "supervisor:\n  cluster: wcp\n")
        .replace(
            "  object_generators:\n",
            "  generators:\n    - {name: tools, cluster: mgmt, rate: 1/min, lifetime: 1h, sizes: [{cpu: 2, memory: 8Gi}]}\n  object_generators:\n",
        );
    // Named in scenarios/, where its include files are.
    let file = support::scenario_path("two-clusters.yaml");
    let s = parse_scenario(&text, file.to_str().unwrap()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.datacenter.cluster_hosts(1), 2..7);
    let world = World::build(&s);
    let addrs = world.supervisor.as_ref().unwrap();
    assert_eq!(addrs.spherelets.len(), 5);
    let mut out = support::checked(&s);
    let summary = out.summary(&s, 0.0);
    assert!(
        summary.vms.placed > 100,
        "the mgmt generator ran: {}",
        summary.vms.placed
    );
    let nodes: Vec<String> = support::api(&out.actors)
        .objects()
        .filter(|o| o.kind() == pacsim::api::objects::Kind::Node)
        .map(|o| o.meta.name.clone())
        .collect();
    assert_eq!(nodes, ["esx-01", "esx-02", "esx-03", "esx-04", "esx-05"]);
    let by_host = owners_by_host(&s, &out);
    for h in ["mgmt-1", "mgmt-2"] {
        assert!(
            by_host[h].iter().all(|o| o == "workload/tools"),
            "{h}: {:?}",
            by_host[h]
        );
    }
    let supervisor_vms = placement(&out)
        .placed()
        .filter(|a| a.vm.0 >= pacsim::model::SPARSE_BASE)
        .count();
    assert!(supervisor_vms > 3, "pods and VMs ran: {supervisor_vms}");
    assert!(
        placement(&out)
            .placed()
            .filter(|a| a.vm.0 >= pacsim::model::SPARSE_BASE)
            .all(|a| (2..7).contains(&a.host.0))
    );
}

/// `plan --cluster` resizes one cluster and keeps the other; the summary
/// shows each cluster's own answer.
#[test]
fn plan_resizes_the_named_cluster_and_keeps_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("two.yaml");
    let text = format!("{GPU_BOUNDARY}expect:\n  - vms.rejected_ratio <= 0\n")
        .replace("rate: 1/min", "rate: 6/h");
    std::fs::write(&path, text).unwrap();
    let p = path.to_str().unwrap();
    let j = support::stdout_json(&support::pacsim(&[
        "plan",
        p,
        "--cluster",
        "general",
        "--json",
    ]));
    // 12 web VMs of 4 cores live through the run: 48 cores, 2 hosts of 32.
    assert_eq!(j["cluster"], "general");
    assert_eq!(j["recommended_hosts"]["std"], 2);
    assert_eq!(j["recommended_hosts"]["gpu"], 2);
    // Capacity and headroom are the planned cluster's (2 hosts of 32
    // cores): its VMs can use no other. The headroom is what its own
    // series leaves at its peak.
    let d = &j["detail"];
    assert_eq!(
        (&d["scope"], &d["capacity_cores"]),
        (&json!("general"), &json!(64.0))
    );
    let general = &d["clusters"][0]["series"];
    let peak_pct = (general.as_array().unwrap().iter())
        .map(|p| p["cpu_pct"].as_f64().unwrap())
        .fold(0.0, f64::max);
    let headroom = d["headroom_cores"].as_f64().unwrap();
    assert!(
        (headroom - 64.0 * (1.0 - peak_pct / 100.0)).abs() < 0.01,
        "{headroom} {peak_pct}"
    );
    let clusters = j["detail"]["clusters"].as_array().unwrap();
    assert_eq!(
        (clusters[0]["hosts"].as_u64(), clusters[1]["hosts"].as_u64()),
        (Some(2), Some(2))
    );
    let text = support::pacsim(&["plan", p, "--cluster", "general"]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("recommended      2 hosts of std in cluster general"),
        "{text}"
    );
    assert!(
        text.contains("cluster          general: 2 hosts (resized)"),
        "{text}"
    );
    assert!(
        text.contains("cluster          gpu: 2 hosts, peak cpu"),
        "{text}"
    );
    let e = support::pacsim(&["plan", p, "--cluster", "nope"]);
    assert_eq!(e.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&e.stderr)
            .contains("unknown cluster `nope`; clusters: general, gpu")
    );
}

/// `inspect --vm NAME` finds a VM written out in the scenario, also when
/// its cluster and rules give it a source of its own.
#[test]
fn inspect_finds_a_vm_by_its_scenario_name() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let scenario = support::scenario_path("clusters.yaml");
    let out = support::pacsim(&[
        "run",
        scenario.to_str().unwrap(),
        "--out",
        log.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let inspect = |vm: &str| {
        let out = support::pacsim(&[
            "inspect",
            log.to_str().unwrap(),
            "--vm",
            vm,
            "--kind",
            "VmRequested,VmRequestedWithPriority",
        ]);
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, llm, _) = inspect("llm-train");
    assert_eq!(code, Some(0));
    assert_eq!(llm.lines().count(), 1, "{llm}");
    assert!(
        llm.contains("workload/vms@gpu+llm-on-nvlink -> placement  VmRequested vm-"),
        "{llm}"
    );
    assert!(llm.contains(", 64 cores, 1024.0 GiB, 8 GPUs"), "{llm}");
    let (_, vcenter, _) = inspect("vcenter");
    assert!(
        vcenter.contains("4 cores, 21.0 GiB, restart priority high"),
        "{vcenter}"
    );
    // The id it printed selects the same VM.
    let id = llm
        .split("VmRequested ")
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap();
    let (_, by_id, _) = inspect(id);
    assert_eq!(by_id, llm);
    let (code, _, err) = inspect("vcentre");
    assert_eq!(code, Some(2));
    assert!(err.contains("did you mean `vcenter`?"), "{err}");
}

/// `replay --what-if hosts=N` on a datacenter of several clusters adds and
/// removes hosts at the end (the last cluster's), keeping every cluster's
/// hosts together: the changed world runs.
#[test]
fn what_if_host_counts_keep_clusters_whole() {
    let dir = tempfile::tempdir().unwrap();
    let trace = support::traced("clusters.yaml", dir.path());
    for n in ["14", "10", "7"] {
        let arg = format!("hosts={n}");
        let out = support::pacsim(&["replay", trace.to_str().unwrap(), "--what-if", &arg]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{arg}: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(text.contains(&format!("what-if: {arg}")), "{text}");
    }
}

/// A trace's VMs go to the cluster `--workload-cluster` names, which the
/// run's embedded scenario records, so the trace replays identically; with
/// several clusters and none named, the run is refused.
#[test]
fn a_workload_trace_goes_to_the_named_cluster() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = support::scenario_path("clusters.yaml");
    let azure = support::repo().join("traces/azure-bins-slice/v1.dev.txt");
    let spec = format!("azure-bins:{}", azure.display());
    let refused = support::pacsim(&[
        "run",
        scenario.to_str().unwrap(),
        "--no-persist",
        "--workload-trace",
        &spec,
    ]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("--workload-cluster"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    let trace = dir.path().join("t.pstrace");
    let out = support::pacsim(&[
        "run",
        scenario.to_str().unwrap(),
        "--workload-trace",
        &spec,
        "--workload-cluster",
        "general",
        "--trace",
        trace.to_str().unwrap(),
        "--no-persist",
        "--json",
    ]);
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON summary");
    let general = &j["clusters"]["general"];
    assert!(general["requested"].as_u64().unwrap() > 10_000, "{j}");
    assert_eq!(j["clusters"]["gpu"]["requested"], 0);
    let verify = support::pacsim(&["replay", trace.to_str().unwrap(), "--verify"]);
    assert!(
        String::from_utf8_lossy(&verify.stdout).contains("identical"),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );
}

/// In a GPU cluster the GPUs run out first, and the plan says so: its
/// binding resource and headroom are in GPUs.
#[test]
fn a_gpu_clusters_plan_is_bound_by_its_gpus() {
    let scenario = support::scenario_path("clusters.yaml");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report");
    let j = support::stdout_json(&support::pacsim(&[
        "plan",
        scenario.to_str().unwrap(),
        "--cluster",
        "gpu",
        "--slo",
        "clusters.gpu.rejected_ratio<=0.05",
        "--json",
        "--out",
        out.to_str().unwrap(),
    ]));
    let d = &j["detail"];
    assert_eq!(d["binding"], "gpus", "{d}");
    let (gpu, cpu) = (
        d["peak_gpu_pct"].as_f64().unwrap(),
        d["peak_cpu_pct"].as_f64().unwrap(),
    );
    assert!(gpu > cpu && gpu <= 100.0, "{gpu} {cpu}");
    // The page says how much of the binding resource is left.
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let row = html.split("headroom at peak").nth(1).unwrap();
    let row = row.split("</tr>").next().unwrap();
    assert!(row.contains(", gpus "), "{row}");
}
