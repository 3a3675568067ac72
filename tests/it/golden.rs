//! Golden files for every shipped scenario: its digest and its summary
//! (the `--json` object without the wall-clock fields), as
//! tests/golden/<scenario>.json. An unintended change of behaviour shows as
//! a diff here. To change them on purpose, run the tests with
//! `PACSIM_UPDATE_GOLDEN=1`, review the diff, and say in the commit why
//! the events changed.

use crate::support::{load, repo, scenario_path};
use pacsim::run::simulate;
use pacsim::store::EventLog;

/// Each shipped scenario, and a shorter duration for the benchmarks (their
/// full runs take minutes in a debug build; the first minutes exercise the
/// same code).
const SHIPPED: [(&str, Option<u64>); 10] = [
    ("quickstart.yaml", None),
    ("ha-small.yaml", None),
    ("supervisor-basic.yaml", None),
    ("guest-clusters.yaml", None),
    ("plan-mixed.yaml", None),
    ("plan-azure.yaml", None),
    ("plan-supervisor.yaml", None),
    ("churn-small.yaml", Some(600)),
    ("churn-large.yaml", Some(60)),
    ("churn-xl.yaml", Some(10)),
];

/// The golden text of one run: digest and summary, pretty JSON.
fn golden_text(name: &str, seconds: Option<u64>) -> String {
    let mut scenario = load(&scenario_path(name));
    if let Some(s) = seconds {
        scenario.duration = pacsim::model::SimDuration::from_secs(s);
    }
    let mut out = simulate(&scenario, EventLog::in_memory(), |_, _| {}).unwrap();
    let mut summary = out.summary(&scenario, 0.0).to_json();
    let fields = summary.as_object_mut().expect("an object");
    fields.remove("wall_seconds");
    fields.remove("events_per_sec");
    let golden = serde_json::json!({
        "scenario": name,
        "duration_override_s": seconds,
        "digest": out.digest.to_string(),
        "summary": summary,
    });
    serde_json::to_string_pretty(&golden).unwrap() + "\n"
}

/// Compares `text` with tests/golden/`file` (or writes it, with
/// `PACSIM_UPDATE_GOLDEN`): `None` when equal, else the first differing
/// line.
fn compare(file: &str, text: &str) -> Option<String> {
    let dir = repo().join("tests/golden");
    let path = dir.join(file);
    if std::env::var_os("PACSIM_UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(&path, text).unwrap();
        return None;
    }
    let kept = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (PACSIM_UPDATE_GOLDEN=1 writes it)", path.display()));
    if kept == text {
        return None;
    }
    let first = (kept.lines().zip(text.lines()))
        .position(|(a, b)| a != b)
        .unwrap_or(kept.lines().count().min(text.lines().count()));
    Some(format!(
        "{file}: line {} was `{}`, is `{}`",
        first + 1,
        kept.lines().nth(first).unwrap_or("").trim(),
        text.lines().nth(first).unwrap_or("").trim()
    ))
}

/// Asserts `text` equals tests/golden/`file`.
pub fn check_text(file: &str, text: &str) {
    if let Some(diff) = compare(file, text) {
        panic!(
            "golden file differs (PACSIM_UPDATE_GOLDEN=1 rewrites it; say why in the commit):\n  {diff}"
        );
    }
}

#[test]
fn every_shipped_scenario_matches_its_golden_file() {
    let differ: Vec<String> = SHIPPED
        .into_iter()
        .filter_map(|(name, seconds)| {
            compare(&name.replace(".yaml", ".json"), &golden_text(name, seconds))
        })
        .collect();
    assert!(
        differ.is_empty(),
        "golden files differ (PACSIM_UPDATE_GOLDEN=1 rewrites them; say why in the commit):\n  {}",
        differ.join("\n  ")
    );
}
