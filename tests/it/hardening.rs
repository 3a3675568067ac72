//! Hostile input: numbers past what the model holds, files that never end,
//! scenarios that cannot finish in reasonable resources, and log folders
//! that must not be written over. Each case is one that crashed, aborted,
//! spun or destroyed data before it was handled.

use crate::support::{pacsim, scenario_path};
use pacsim::run::simulate_limited;
use pacsim::run::watchdog::{Cause, RunLimits};
use pacsim::scenario::parse_scenario;
use pacsim::store::EventLog;

/// A small valid world; cases append a section.
const WORLD: &str = "\
seed: 1
duration: 1h
datacenter:
  host_models: [{name: m, cpu: 64, memory: 512Gi}]
  clusters: [{name: c, hosts: [{model: m, count: 4}]}]
";

const SUPERVISOR: &str = "\
supervisor:
  datastores: [{name: fast, capacity: 10Ti}]
  storage_policies: [{name: fast, datastores: [fast]}]
  objects:
    - {apiVersion: vmoperator.vmware.com/v1alpha1, kind: VirtualMachineClass, metadata: {name: small}, spec: {hardware: {cpus: 2, memory: 8Gi}}}
    - {apiVersion: vmoperator.vmware.com/v1alpha1, kind: VirtualMachineImage, metadata: {name: v1-26}}
    - {apiVersion: storage.k8s.io/v1, kind: StorageClass, metadata: {name: fast}, provisioner: csi.vsphere.vmware.com, parameters: {storagePolicyID: fast}}
  namespaces: [{name: ns, vm_classes: [small], storage_classes: [fast]}]
";

fn refused(text: &str) -> String {
    match parse_scenario(text, "t.yaml") {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => e.to_string(),
    }
}

/// Every number past its bound is an error naming the field and the
/// bound; each of these used to wrap, panic or abort on an allocation.
#[test]
fn numbers_past_what_the_model_holds_name_the_field_and_the_bound() {
    let cases = [
        (
            "workloads:\n  vms: [{name: a, cpu: 18446744073709551615m, memory: 8Gi}]\n",
            "t.yaml:7:24: cpu quantity `18446744073709551615m` is too large: at most 1000000 cores",
        ),
        (
            "workloads:\n  vms: [{name: a, cpu: 1, memory: 18446744073709551615}]\n",
            "is too large: at most 8Pi",
        ),
        (
            "workloads:\n  generators: [{name: g, rate: 1000000000/s, lifetime: 1h, sizes: [{cpu: 1, memory: 1Gi}]}]\n",
            "is too high: at most 1000000/s",
        ),
        (
            "workloads:\n  generators: [{name: g, interarrival: exp(1ns), lifetime: 1h, sizes: [{cpu: 1, memory: 1Gi}]}]\n",
            "`interarrival` must have a mean of at least 1us",
        ),
        (
            "workloads:\n  generators: [{name: g, rate: 1/s, lifetime: 1h, sizes: [{cpu: 1, memory: 1Gi, weight: 4294967297}]}]\n",
            "weight` is too large: at most 1000000",
        ),
        (
            "workloads:\n  generators: [{name: g, rate: 1/s, lifetime: exp(106752d), sizes: [{cpu: 1, memory: 1Gi}]}]\n",
            "duration `106752d` is too large: at most 36500d",
        ),
    ];
    for (section, message) in cases {
        let err = refused(&format!("{WORLD}{section}"));
        assert!(err.contains(message), "want `{message}`, got `{err}`");
    }
    let long = WORLD.replace("duration: 1h", "duration: 9223372036854775808ns");
    assert!(refused(&long).contains("is too large: at most 36500d"));
    let many = WORLD.replace("count: 4", "count: 18446744073709551615");
    assert!(refused(&many).contains("count` is too large: at most 1000000"));
}

#[test]
fn kubernetes_counts_are_bounded_by_kubernetes_limits() {
    let tkc = "workloads:\n  manifests:\n    - user: administrator@vsphere.local\n      object:\n        apiVersion: run.tanzu.vmware.com/v1alpha2\n        kind: TanzuKubernetesCluster\n        metadata: {name: tkc, namespace: ns}\n        spec:\n          topology:\n            controlPlane: {replicas: 1, vmClass: small, storageClass: fast, tkr: {reference: {name: v1-26}}}\n            nodePools: [{name: np, replicas: 1000000000, vmClass: small, storageClass: fast}]\n";
    let err = refused(&format!("{WORLD}{SUPERVISOR}{tkc}"));
    assert!(
        err.contains("replicas` is too large: at most 5000"),
        "{err}"
    );
}

/// A datacenter whose memory cannot be summed is refused as a whole.
#[test]
fn a_datacenter_whose_total_memory_overflows_is_refused() {
    let text = WORLD
        .replace("memory: 512Gi", "memory: 8Pi")
        .replace("count: 4", "count: 1000");
    let err = refused(&text);
    assert!(err.contains("pacsim counts at most"), "{err}");
}

#[test]
fn include_reads_only_regular_files_of_bounded_size() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.yaml");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(65 << 20)
        .unwrap();
    let include = |path: &str| {
        format!(
            "{WORLD}{SUPERVISOR}workloads:\n  manifests:\n    - {{user: administrator@vsphere.local, include: {path}}}\n"
        )
    };
    let file = dir.path().join("s.yaml").display().to_string();
    for (path, message) in [
        ("/dev/urandom", "is not a regular file"),
        (".", "is not a regular file"),
        ("big.yaml", "more than 64 MiB"),
    ] {
        let err = parse_scenario(&include(path), &file)
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert!(err.contains(message), "{path}: {err}");
    }
}

/// Hosts that fail every nanosecond keep the clock from advancing: the
/// run stops and says so, rather than spin for ever.
#[test]
fn a_clock_that_stands_still_stops_the_run_with_a_hint() {
    let text = format!("{WORLD}faults:\n  - random: {{hosts: all, mtbf: 1ns, mttr: 1ns}}\n");
    let scenario = parse_scenario(&text, "t.yaml").unwrap();
    let limits = RunLimits {
        stall_events: 1 << 17,
        ..RunLimits::unlimited()
    };
    let out =
        simulate_limited(&scenario, EventLog::in_memory(), false, limits, |_, _| {}).expect("runs");
    let stopped = out.stopped.expect("the stall stopped the run");
    assert!(matches!(stopped.cause, Cause::Stalled { .. }));
    assert_eq!(stopped.events, 1 << 17);
    let message = stopped.to_string();
    assert!(
        message.contains("so it would not reach its end"),
        "{message}"
    );
    assert!(
        message.contains("hint: random faults on 4 hosts fail every 1ns"),
        "{message}"
    );
}

/// Past its memory budget a run stops with what it holds and which
/// generator made it grow.
#[test]
fn past_its_memory_budget_a_run_stops_saying_what_it_holds() {
    let text = format!(
        "{WORLD}workloads:\n  generators: [{{name: flood, rate: 100/s, lifetime: 30d, sizes: [{{cpu: 1m, memory: 1Mi}}]}}]\n"
    );
    let scenario = parse_scenario(&text, "t.yaml").unwrap();
    let limits = RunLimits {
        memory_budget: Some(1 << 20),
        ..RunLimits::unlimited()
    };
    let out =
        simulate_limited(&scenario, EventLog::in_memory(), false, limits, |_, _| {}).expect("runs");
    let Some(stopped) = out.stopped else {
        return; // no /proc to read the memory from: no budget is kept
    };
    assert!(matches!(stopped.cause, Cause::Memory { .. }));
    assert_eq!(stopped.events, 1 << 16, "stopped at the first check");
    assert!(stopped.holding.vms_alive > 10_000, "{:?}", stopped.holding);
    let message = stopped.to_string();
    assert!(message.contains("past its budget of 0.0 GiB"), "{message}");
    assert!(
        message.contains("generator `flood` keeps about"),
        "{message}"
    );
}

#[test]
fn the_budget_stop_is_exit_3_through_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("flood.yaml");
    std::fs::write(
        &path,
        format!(
            "{WORLD}workloads:\n  generators: [{{name: flood, rate: 100/s, lifetime: 30d, sizes: [{{cpu: 1m, memory: 1Mi}}]}}]\n"
        ),
    )
    .unwrap();
    let out = pacsim(&[
        "run",
        path.to_str().unwrap(),
        "--no-persist",
        "--memory-budget",
        "1Mi",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !std::path::Path::new("/proc/self/status").exists() {
        return;
    }
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("error: the run stopped at simulated time"),
        "{stderr}"
    );
    assert!(stderr.contains("--memory-budget"), "{stderr}");
}

/// A second run into a folder that holds a log is refused and the first
/// log stays readable; `--force` replaces it whole.
#[test]
fn a_log_folder_is_never_written_over_silently() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("X");
    let out = out.to_str().unwrap();
    let quickstart = scenario_path("quickstart.yaml");
    let first = pacsim(&["run", quickstart.to_str().unwrap(), "--out", out, "--json"]);
    let first: serde_json::Value = crate::support::stdout_json(&first);
    let digest_in = |dir: &str| {
        let reader = pacsim::store::LogReader::open(std::path::Path::new(dir)).unwrap();
        let records = reader.records().filter(Result::is_ok).count() as u64;
        (reader.meta().digest.clone(), records)
    };
    let ha = scenario_path("ha-small.yaml");
    let second = pacsim(&["run", ha.to_str().unwrap(), "--out", out]);
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("already holds a pacsim event log"),
        "{stderr}"
    );
    let whole = |json: &serde_json::Value| {
        let digest = json["digest"].as_str().unwrap().to_string();
        (digest, json["events"].as_u64().unwrap())
    };
    assert_eq!(digest_in(out), whole(&first), "the first log is intact");

    let forced = pacsim(&[
        "run",
        ha.to_str().unwrap(),
        "--out",
        out,
        "--force",
        "--json",
    ]);
    let forced = crate::support::stdout_json(&forced);
    assert_eq!(digest_in(out), whole(&forced), "replaced as a whole");
}

#[test]
fn a_folder_that_is_not_a_log_is_never_touched() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("thesis.tex"), "keep me").unwrap();
    let quickstart = scenario_path("quickstart.yaml");
    let out = pacsim(&[
        "run",
        quickstart.to_str().unwrap(),
        "--out",
        dir.path().to_str().unwrap(),
        "--force",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("is neither empty nor a pacsim event log")
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("thesis.tex")).unwrap(),
        "keep me"
    );
}

/// A write the file system refuses (here a file-size limit, standing in
/// for a full disk without needing one) is one message in pacsim's words,
/// exit 3, and the log it leaves salvages.
#[test]
fn a_refused_write_is_one_message_and_exit_3() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("log");
    let quickstart = scenario_path("quickstart.yaml");
    let run = std::process::Command::new("sh")
        .arg("-c")
        // Ignore SIGXFSZ so that the write fails with EFBIG instead.
        .arg(r#"trap "" XFSZ; ulimit -f 30; exec "$0" run "$1" --out "$2""#)
        .arg(env!("CARGO_BIN_EXE_pacsim"))
        .arg(&quickstart)
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(3), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one message: {stderr}");
    assert!(
        stderr.starts_with("error: event log write failed: file too large"),
        "{stderr}"
    );
    let salvaged = pacsim(&["inspect", out.to_str().unwrap(), "--counts", "--salvage"]);
    assert!(
        salvaged.status.success(),
        "{}",
        String::from_utf8_lossy(&salvaged.stderr)
    );
}

/// The swarm never takes down for good more hosts than a Supervisor's
/// control plane survives (a quorum of its VMs on distinct hosts); these
/// seeds drew three lasting crashes on four hosts, and `recovery-within`
/// failed on a world no configuration could recover.
#[test]
fn the_swarm_never_asks_for_more_lasting_failures_than_the_world_survives() {
    use pacsim::fuzz::profile::Item;
    let scenario = crate::support::readme_supervisor_example();
    let hosts = scenario.datacenter.hosts.len();
    let quorum = scenario.supervisor.as_ref().unwrap().control_plane.vms as usize / 2 + 1;
    for seed in 1..=3_000 {
        let profile = pacsim::fuzz::Profile::draw(seed, &scenario);
        let lasting: std::collections::BTreeSet<u32> = profile
            .items
            .iter()
            .filter_map(|i| match i {
                Item::Crash {
                    host, repair: None, ..
                } => Some(*host),
                _ => None,
            })
            .collect();
        assert!(lasting.len() + quorum <= hosts, "seed {seed}: {profile:?}");
    }
    for seed in [1136, 1346, 1774] {
        let profile = pacsim::fuzz::Profile::draw(seed, &scenario);
        let violation = pacsim::fuzz::run_one(&scenario, seed, &profile);
        assert!(violation.is_none(), "seed {seed}: {}", violation.unwrap());
    }
}

/// Flags are bounded like scenario numbers: a thread count that would only
/// fail to spawn, a what-if datacenter no model could sum.
#[test]
fn flags_past_their_bounds_are_refused() {
    let trace = crate::support::repo().join("traces/quickstart.pstrace");
    let trace = trace.to_str().unwrap();
    let quickstart = scenario_path("quickstart.yaml");
    let cases: [(Vec<&str>, &str); 3] = [
        (
            vec![
                "fuzz",
                quickstart.to_str().unwrap(),
                "--seeds",
                "1..2",
                "--jobs",
                "100000",
            ],
            "--jobs must be 1 to 1024",
        ),
        (
            vec!["replay", trace, "--what-if", "hosts=1000000000000"],
            "is not a host count from 1 to 1000000",
        ),
        (
            vec![
                "replay",
                trace,
                "--what-if",
                "hosts=1000000",
                "--what-if",
                "model.r650.memory=8Pi",
            ],
            "the what-if datacenter is too large",
        ),
    ];
    for (args, message) in cases {
        let out = pacsim(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
}
