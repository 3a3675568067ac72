//! The live runtime (actix, scaled wall clock) runs the same actors as the
//! simulator: on a scenario without timing ties both reach the same state.

use pacsim::actors::WorldSnapshot;
use pacsim::live::run_live;
use pacsim::run::simulate;
use pacsim::scenario::parse_scenario;
use pacsim::store::{EventLog, LogReader};

/// Every input at its own instant, seconds apart: no ties to break.
const NO_TIES: &str = r#"
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
    - { name: c, cpu: 12, memory: 16Gi, at: 25s, delete_at: 95s }
    - { name: d, cpu: 4, memory: 8Gi, at: 35s }
    - { name: e, cpu: 8, memory: 8Gi, at: 45s }
    - { name: f, cpu: 8, memory: 8Gi, at: 75s }
faults:
  - { at: 55s, host: esx-01, fault: crash, repair_after: 30s }
"#;

#[test]
fn live_and_simulated_runs_end_in_the_same_state() {
    let scenario = parse_scenario(NO_TIES, "live-vs-sim.yaml").unwrap();
    let sim = simulate(&scenario, EventLog::in_memory(), |_, _| {}).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let log = EventLog::create(dir.path(), &scenario.source, scenario.seed).unwrap();
    // 120 virtual seconds at 40x: three wall seconds.
    let live = run_live(&scenario, 40.0, log).unwrap();

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
}
