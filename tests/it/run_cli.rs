//! `pacsim run` as scripts use it: the JSON contract, expectations and exit
//! codes, the event log folder.

use crate::support::{pacsim, scenario_path, stdout_json};

#[test]
fn json_summary_has_the_keys_scripts_rely_on() {
    let file = scenario_path("quickstart.yaml");
    let json = stdout_json(&pacsim(&[
        "run",
        file.to_str().unwrap(),
        "--json",
        "--no-persist",
    ]));
    for key in [
        "events",
        "wall_seconds",
        "events_per_sec",
        "digest",
        "sim_seconds",
    ] {
        assert!(
            json[key].is_number() || json[key].is_string(),
            "missing {key}"
        );
    }
    for key in [
        "requested",
        "placed",
        "rejected",
        "deleted",
        "lost",
        "replaced",
        "alive_at_end",
    ] {
        assert!(json["vms"][key].is_u64(), "missing vms.{key}");
    }
    assert!(json["peak_allocated"]["cpu_cores"].as_f64().unwrap() > 0.0);
    assert!(json["peak_allocated"]["memory_gib"].as_f64().unwrap() > 0.0);
    assert_eq!(json["sim_seconds"], 86400.0);
    // The books balance: every placed VM was deleted, lost or is alive.
    let v = &json["vms"];
    let placed = v["placed"].as_u64().unwrap();
    let gone = v["deleted"].as_u64().unwrap()
        + v["lost"].as_u64().unwrap()
        + v["alive_at_end"].as_u64().unwrap();
    assert_eq!(placed, gone);
}

/// `pacsim run FILE --no-persist EXTRA...`, which must exit 1 (an
/// expectation failed): its stdout and stderr.
fn run_failing(file: &std::path::Path, extra: &[&str]) -> (Vec<u8>, String) {
    let args = [&["run", file.to_str().unwrap(), "--no-persist"], extra].concat();
    let out = pacsim(&args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    (out.stdout, stderr)
}

#[test]
fn a_failed_expectation_exits_1_and_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(scenario_path("quickstart.yaml")).unwrap();
    let text = text.replace("  - lost == 0", "  - vms.requested < 10");
    let file = dir.path().join("strict.yaml");
    std::fs::write(&file, text).unwrap();
    let (_, stderr) = run_failing(&file, &[]);
    assert!(
        stderr.contains("expectation failed: vms.requested < 10"),
        "{stderr}"
    );
    assert!(stderr.contains("strict.yaml:"), "{stderr}");
}

#[test]
fn a_latency_expectation_with_no_samples_fails_instead_of_reading_zero() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("nothing-fits.yaml");
    std::fs::write(
        &file,
        "name: nothing-fits\nseed: 1\nduration: 1h\ndatacenter:\n  host_models:\n    - { name: small, cpu: 4, memory: 8Gi }\n  clusters:\n    - name: c\n      hosts:\n        - { model: small, count: 1 }\nworkloads:\n  vms:\n    - { name: big, cpu: 16, memory: 64Gi, at: 0s }\nexpect:\n  - placement_latency_ms.p99 <= 1000\n  - vms.rejected == 1\n",
    )
    .unwrap();
    let (stdout, stderr) = run_failing(&file, &["--json"]);
    assert!(
        stderr.contains("expectation failed: placement_latency_ms.p99 <= 1000 (no samples"),
        "{stderr}"
    );
    assert!(stderr.contains("1 of 2 expectations failed"), "{stderr}");
    let json: serde_json::Value = serde_json::from_slice(&stdout).unwrap();
    assert!(json["placement_latency_ms"]["p99"].is_null(), "{json}");
    assert!(json["placement_latency_ms"]["max"].is_null(), "{json}");

    let (table, _) = run_failing(&file, &[]);
    let stdout = String::from_utf8_lossy(&table);
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("placement latency") && l.ends_with("no samples")),
        "{stdout}"
    );
}

#[test]
fn an_unknown_metric_in_expect_is_bad_input_with_its_location() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(scenario_path("quickstart.yaml")).unwrap();
    let text = text.replace("  - lost == 0", "  - vms.lostt == 0");
    let file = dir.path().join("typo.yaml");
    std::fs::write(&file, &text).unwrap();
    let out = pacsim(&["run", file.to_str().unwrap(), "--no-persist"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("unknown metric `vms.lostt`"), "{stderr}");
    assert!(stderr.contains("vms.lost"), "lists known metrics: {stderr}");
    let line = text.lines().position(|l| l.contains("vms.lostt")).unwrap() + 1;
    assert!(stderr.contains(&format!("typo.yaml:{line}:")), "{stderr}");

    // An SLO given to plan is named as given, not placed in the file.
    let args = [
        "plan",
        file.to_str().unwrap(),
        "--seeds",
        "1",
        "--model",
        "r650",
    ];
    let out = pacsim(&[&args[..], &["--slo", "nosuch.metric<=1"]].concat());
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("`nosuch.metric <= 1`: unknown metric `nosuch.metric`")
            && !stderr.contains(":0:0"),
        "{stderr}"
    );
}

#[test]
fn run_writes_the_log_into_the_out_folder_and_says_where() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("log");
    let file = scenario_path("quickstart.yaml");
    let out = pacsim(&[
        "run",
        file.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("events delivered"));
    assert!(stdout.contains(out_dir.to_str().unwrap()));
    assert!(pacsim::store::LogReader::open(&out_dir).is_ok());
}

#[test]
fn every_shipped_scenario_parses() {
    for entry in std::fs::read_dir(crate::support::repo().join("scenarios")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml") {
            pacsim::scenario::load_scenario(&path).unwrap_or_else(|e| panic!("{e}"));
        }
    }
}
