//! The event log is the truth: replaying a persisted log into fresh actors
//! rebuilds exactly the state and statistics of the run that wrote it.

use crate::support::{load, scenario_path};
use pacsim::actors::WorldSnapshot;
use pacsim::run::{replay_records, simulate};
use pacsim::store::{EventLog, LogReader};

#[test]
fn replaying_the_log_rebuilds_the_same_actor_state_and_statistics() {
    let scenario = load(&scenario_path("quickstart.yaml"));
    let dir = tempfile::tempdir().unwrap();
    let log = EventLog::create(dir.path(), &scenario.source, scenario.seed).unwrap();
    let mut run = simulate(&scenario, log, |_, _| {}).unwrap();
    let original = WorldSnapshot::of(&run.actors);
    assert!(
        original.assignments.len() > 10,
        "the scenario leaves VMs running"
    );

    let reader = LogReader::open(dir.path()).unwrap();
    let records = reader.records().map(|r| r.expect("record decodes"));
    let (actors, mut stats) = replay_records(&scenario, records);
    assert_eq!(WorldSnapshot::of(&actors), original);

    let end = run.end;
    assert_eq!(stats.requested, run.stats.requested);
    assert_eq!(stats.placed, run.stats.placed);
    assert_eq!(stats.deleted, run.stats.deleted);
    assert_eq!(stats.replaced, run.stats.replaced);
    assert_eq!(stats.host_failures, run.stats.host_failures);
    assert_eq!(stats.mean_allocated(end), run.stats.mean_allocated(end));
}
