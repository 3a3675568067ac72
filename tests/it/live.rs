//! The live runtime is the simulator's kernel paced by a wall clock: the
//! same deliveries in the same order, so the same log, byte for byte.

use pacsim::actors::WorldSnapshot;
use pacsim::live::run_live;
use pacsim::run::simulate;
use pacsim::scenario::parse_scenario;
use pacsim::store::{EventLog, LogReader, StoreError};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

/// Inputs and a fault, with ties: `b` and `b2` arrive at the same instant
/// (the kernel breaks the tie, in both runs alike).
const TIES: &str = r#"
name: live-vs-sim
seed: 3
duration: 120s
datacenter:
  host_models:
    - { name: small, cpu: 16, memory: 64Gi }
  clusters:
    - name: cl
      hosts:
        - { model: small, count: 3 }
placement:
  policy: first-fit
workloads:
  vms:
    - { name: a, cpu: 8, memory: 16Gi, at: 5s }
    - { name: b, cpu: 8, memory: 16Gi, at: 15s }
    - { name: b2, cpu: 2, memory: 4Gi, at: 15s, delete_at: 20s }
    - { name: c, cpu: 12, memory: 16Gi, at: 25s, delete_at: 95s }
    - { name: d, cpu: 4, memory: 8Gi, at: 35s }
    - { name: e, cpu: 8, memory: 8Gi, at: 45s }
    - { name: f, cpu: 8, memory: 8Gi, at: 75s }
faults:
  - { at: 55s, host: esx-01, fault: crash, repair_after: 30s }
"#;

#[test]
fn a_live_run_writes_the_simulated_runs_log_byte_for_byte() {
    let scenario = parse_scenario(TIES, "live-vs-sim.yaml").unwrap();
    let sim = simulate(&scenario, EventLog::in_memory(), |_, _| {}).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let log = EventLog::create(dir.path(), &scenario.source, scenario.seed).unwrap();
    // 120 virtual seconds at 40x: three wall seconds.
    let started = std::time::Instant::now();
    let live = run_live(&scenario, 40.0, log).unwrap();
    // Paced: it lasted the scenario's duration at 40x, not less.
    assert!(started.elapsed() >= std::time::Duration::from_secs(3));

    assert_eq!(live.digest, sim.digest);

    let sim_state = WorldSnapshot::of(&sim.actors);
    assert_eq!(WorldSnapshot::of(&live.actors), sim_state);
    assert_eq!(live.events, sim.events);
    assert_eq!(live.stats.lost, sim.stats.lost);
    assert_eq!(live.stats.replaced, sim.stats.replaced);
    // The crash displaced VMs and they were re-placed, in both runtimes.
    assert!(sim.stats.replaced >= 1);
    // The live journal is a readable log with every delivered event.
    let reader = LogReader::open(dir.path()).unwrap();
    assert_eq!(reader.meta().records, live.events);
    assert_eq!(reader.records().count() as u64, live.events);
    assert_eq!(reader.meta().digest, sim.digest.to_string());
}

/// A VM a second for half an hour: about two events a second, live at
/// 20x for 90 wall seconds unless stopped.
const STEADY: &str = r#"
seed: 5
duration: 30m
datacenter:
  host_models: [{name: big, cpu: 64, memory: 512Gi}]
  clusters: [{name: cl, hosts: [{model: big, count: 4}]}]
placement: {policy: first-fit}
workloads:
  generators:
    - {name: g, rate: 1/s, lifetime: fixed(60s), sizes: [{cpu: 1, memory: 2Gi}]}
"#;

/// Non-negotiable 2 in live mode: every event the live runtime delivered
/// (it says so at debug level, after the journal's flush) is in the journal
/// after a `kill -9`, whole and in order.
#[test]
fn a_live_run_killed_with_sigkill_keeps_every_event_it_delivered() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("steady.yaml");
    std::fs::write(&scenario, STEADY).unwrap();
    let out = dir.path().join("journal");
    let mut child = Command::new(env!("CARGO_BIN_EXE_pacsim"))
        .args(["run", "--live", "--speed", "20", "--out"])
        .arg(&out)
        .arg(&scenario)
        .env("RUST_LOG", "pacsim::live=debug")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("pacsim starts");
    let mut delivered = Vec::new();
    for line in BufReader::new(child.stderr.take().unwrap()).lines() {
        let line = line.unwrap();
        if let Some(seq) = line.split("seq=").nth(1) {
            delivered.push(seq.trim().parse::<u64>().unwrap());
            if delivered.len() == 40 {
                break;
            }
        }
    }
    child.kill().unwrap(); // SIGKILL: no chance to finish the log
    child.wait().unwrap();
    assert_eq!(delivered, (0..40).collect::<Vec<u64>>());

    assert!(matches!(
        LogReader::open(&out).map(|_| ()),
        Err(StoreError::Unfinished { .. })
    ));
    let reader = LogReader::open_unfinished(&out).unwrap();
    assert!(!reader.meta().finished);
    let stored: Vec<u64> = reader.records().map(|r| r.unwrap().seq).collect();
    assert!(stored.len() >= delivered.len(), "{stored:?}");
    assert_eq!(stored, (0..stored.len() as u64).collect::<Vec<u64>>());
}

/// `run --live --trace`: the trace of a live run is the simulated run's,
/// byte for byte (the committed quickstart trace), and the run is checked.
#[test]
fn a_live_run_writes_the_simulated_runs_trace() {
    let dir = tempfile::tempdir().unwrap();
    let (log, trace) = (dir.path().join("log"), dir.path().join("q.pstrace"));
    let quickstart = crate::support::scenario_path("quickstart.yaml");
    let out = Command::new(env!("CARGO_BIN_EXE_pacsim"))
        .args(["run", "--live", "--speed", "1000000", "--json"])
        .arg(&quickstart)
        .arg("--out")
        .arg(&log)
        .arg("--trace")
        .arg(&trace)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let summary = crate::support::stdout_json(&out);
    assert!(
        summary["invariant_checks"].as_u64().unwrap() >= 1,
        "{summary}"
    );
    let committed = crate::support::repo().join("traces/quickstart.pstrace");
    assert_eq!(
        std::fs::read(&trace).unwrap(),
        std::fs::read(committed).unwrap()
    );
}
