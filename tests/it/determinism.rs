//! Same scenario and seed: the same log bytes and digest, whatever the
//! output folder, persistence or build profile.

use crate::support::{load, pacsim, scenario_path, stdout_json};
use pacsim::run::simulate;
use pacsim::store::{EventLog, LogReader};

/// The digest of scenarios/quickstart.yaml (seed 42) as produced by a
/// release build. Tests run in the debug profile, so matching it here also
/// shows that the digest does not depend on the build profile. Update it only
/// on purpose, saying in the commit why the event order changed.
const QUICKSTART_GOLDEN_DIGEST: &str =
    "c1d209c4a196b52f25b402975fce1d760c79a7aa181a5dcd23f7b7c6216a93bb";

fn log_bytes(dir: &std::path::Path) -> Vec<u8> {
    let reader = LogReader::open(dir).expect("log opens");
    let mut bytes = Vec::new();
    for r in reader.records() {
        let r = r.expect("record decodes");
        bytes.extend(pacsim::store::codec::encode_value(&r));
    }
    bytes
}

#[test]
fn quickstart_digest_matches_the_golden_digest() {
    let scenario = load(&scenario_path("quickstart.yaml"));
    let out = simulate(&scenario, EventLog::in_memory(), |_, _| {}).unwrap();
    assert_eq!(out.digest.to_string(), QUICKSTART_GOLDEN_DIGEST);
}

#[test]
fn the_same_seed_twice_gives_identical_log_bytes_and_digest() {
    let scenario = load(&scenario_path("quickstart.yaml"));
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let da = simulate(
        &scenario,
        EventLog::create(&a, &scenario.source, scenario.seed).unwrap(),
        |_, _| {},
    )
    .unwrap();
    let db = simulate(
        &scenario,
        EventLog::create(&b, &scenario.source, scenario.seed).unwrap(),
        |_, _| {},
    )
    .unwrap();
    assert_eq!(da.digest, db.digest);
    let (bytes_a, bytes_b) = (log_bytes(&a), log_bytes(&b));
    assert!(!bytes_a.is_empty());
    assert_eq!(bytes_a, bytes_b);
}

#[test]
fn another_seed_gives_another_digest() {
    let mut scenario = load(&scenario_path("quickstart.yaml"));
    let first = simulate(&scenario, EventLog::in_memory(), |_, _| {})
        .unwrap()
        .digest;
    scenario.seed += 1;
    let second = simulate(&scenario, EventLog::in_memory(), |_, _| {})
        .unwrap()
        .digest;
    assert_ne!(first, second);
}

#[test]
fn digest_does_not_depend_on_out_folder_or_persistence() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario_path("quickstart.yaml");
    let file = file.to_str().unwrap();
    let runs = [
        vec![
            "run",
            file,
            "--json",
            "--out",
            dir.path().join("one").to_str().unwrap().to_string().leak(),
        ],
        vec![
            "run",
            file,
            "--json",
            "--out",
            dir.path().join("two").to_str().unwrap().to_string().leak(),
        ],
        vec!["run", file, "--json", "--no-persist"],
    ];
    let digests: Vec<String> = runs
        .iter()
        .map(|args| {
            stdout_json(&pacsim(args))["digest"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(digests[0], QUICKSTART_GOLDEN_DIGEST);
    assert!(digests.iter().all(|d| d == &digests[0]), "{digests:?}");
}

/// A Supervisor's run sends every kind of message, most of them not the
/// four of a VM's life: an in-memory run, which hands its records to the
/// hashing thread in the hand-off form where a second core is free,
/// hashes the same bytes as a persisted one, which encodes them itself.
#[test]
fn a_supervisors_digest_does_not_depend_on_persistence() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario_path("supervisor-basic.yaml");
    let file = file.to_str().unwrap();
    let out = dir.path().join("log");
    let persisted = ["run", file, "--json", "--out", out.to_str().unwrap()];
    let in_memory = ["run", file, "--json", "--no-persist"];
    let [persisted, in_memory] = [&persisted[..], &in_memory[..]].map(|args| {
        let summary = stdout_json(&pacsim(args));
        (
            summary["digest"].as_str().unwrap().to_string(),
            summary["events"].clone(),
        )
    });
    assert_eq!(in_memory, persisted);
    assert!(persisted.1.as_u64().unwrap() > 10_000, "{persisted:?}");
    let stored = LogReader::open(&out).unwrap().recompute_digest().unwrap();
    assert_eq!(stored.to_string(), persisted.0);
}

#[test]
fn the_stored_digest_is_the_digest_of_the_stored_records() {
    let scenario = load(&scenario_path("quickstart.yaml"));
    let dir = tempfile::tempdir().unwrap();
    let out = simulate(
        &scenario,
        EventLog::create(dir.path(), &scenario.source, scenario.seed).unwrap(),
        |_, _| {},
    )
    .unwrap();
    let reader = LogReader::open(dir.path()).unwrap();
    assert_eq!(reader.meta().digest, out.digest.to_string());
    assert_eq!(reader.meta().records, out.events);
    assert_eq!(reader.meta().seed, 42);
    assert_eq!(reader.meta().scenario, scenario.source);
    assert_eq!(reader.recompute_digest().unwrap(), out.digest);
}

#[test]
fn seed_flag_overrides_the_scenario_seed() {
    let file = scenario_path("quickstart.yaml");
    let file = file.to_str().unwrap();
    let json = stdout_json(&pacsim(&[
        "run",
        file,
        "--json",
        "--no-persist",
        "--seed",
        "7",
    ]));
    assert_eq!(json["seed"], 7);
    assert_ne!(json["digest"], QUICKSTART_GOLDEN_DIGEST);
}

/// `pacsim run` on a machine with a spare core draws a lone generator's
/// inputs (and, in memory, hashes the log) on another thread: the digest
/// is the one of a run that does everything on one thread.
#[test]
fn drawing_inputs_on_another_thread_gives_the_one_thread_digest() {
    let text = std::fs::read_to_string(scenario_path("churn-small.yaml"))
        .unwrap()
        .replace("duration: 7d", "duration: 3h");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("churn-3h.yaml");
    std::fs::write(&file, text).unwrap();
    let scenario = load(&file);
    let mut world = pacsim::world::World::build(&scenario);
    pacsim::inputs::draw_ahead(&mut world.sources);
    assert!(
        (world.sources.iter())
            .any(|(s, _)| matches!(s, pacsim::inputs::WorldSource::DrawnAhead(_))),
        "the scenario's generator is one that is drawn ahead"
    );
    let inline = simulate(&scenario, EventLog::in_memory(), |_, _| {})
        .unwrap()
        .digest
        .to_string();
    let out = dir.path().join("log");
    let file = file.to_str().unwrap();
    for args in [
        vec!["run", file, "--json", "--no-persist"],
        vec!["run", file, "--json", "--out", out.to_str().unwrap()],
    ] {
        let json = stdout_json(&pacsim(&args));
        assert_eq!(json["digest"].as_str(), Some(inline.as_str()), "{args:?}");
        assert!(json["events"].as_u64().unwrap() > 10_000, "{args:?}");
    }
}
