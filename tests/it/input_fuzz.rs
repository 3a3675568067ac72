//! Input fuzzing in CI: a few thousand mutated scenario files (see
//! `pacsim::fuzz::inputs`) run as `pacsim run` would, each bounded to
//! 2^12 events. None may panic. Cases that once crashed pacsim are kept
//! in tests/fixtures/fuzz-regressions/ and run first.
//! `scripts/input-fuzz.sh` runs the same cases by the million.

use crate::support::repo;
use pacsim::fuzz::inputs::{CORPUS, Outcome, mutate, run_case};
use pacsim::run::watchdog::RunLimits;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;

const CASES: u64 = 3_000;

fn limits() -> RunLimits {
    RunLimits {
        // Other tests share this process, so its resident memory says
        // nothing about one case; the campaign script keeps the budget.
        memory_budget: None,
        max_events: Some(1 << 12),
        ..RunLimits::unlimited()
    }
}

/// Runs one case, turning a panic into a failure that names the case and
/// keeps its text where it can be read back.
fn run_guarded(text: &str, file: &str, name: &str) -> Outcome {
    match catch_unwind(AssertUnwindSafe(|| run_case(text, file, limits(), None))) {
        Ok(outcome) => outcome,
        Err(_) => {
            let kept = std::env::temp_dir().join(format!("pacsim-fuzz-{name}.yaml"));
            let _ = std::fs::write(&kept, text);
            panic!(
                "case {name} panicked; its text is in {} (run it with `pacsim run` from scenarios/)",
                kept.display()
            );
        }
    }
}

#[test]
fn mutated_scenarios_never_panic() {
    let mut exits = [0u64; 4];
    for case in 0..CASES {
        let name = CORPUS[(case % CORPUS.len() as u64) as usize];
        let path = repo().join("scenarios").join(name);
        let base = std::fs::read_to_string(&path).unwrap();
        let text = mutate(&base, 1, case);
        let outcome = run_guarded(
            &text,
            &path.display().to_string(),
            &format!("{name}-{case}"),
        );
        exits[outcome.exit_code() as usize] += 1;
    }
    // Most mutations are refused, yet enough still run to reach the
    // simulator and the expectations.
    assert!(exits[2] > CASES / 4, "exits 0/1/2/3: {exits:?}");
    assert!(exits[0] + exits[1] > CASES / 20, "exits 0/1/2/3: {exits:?}");
}

/// Every case that once crashed pacsim, kept as a file beside the
/// scenarios it was mutated from (so that its includes resolve).
#[test]
fn fuzz_regressions_stay_fixed() {
    let dir = repo().join("tests/fixtures/fuzz-regressions");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "no regression cases in {}",
        dir.display()
    );
    for file in files {
        let text = String::from_utf8_lossy(&std::fs::read(&file).unwrap()).into_owned();
        let as_if = repo().join("scenarios").join(file.file_name().unwrap());
        let name = file.file_stem().unwrap().to_string_lossy().into_owned();
        let outcome = run_guarded(&text, &as_if.display().to_string(), &name);
        let expected = expected_exit(&text);
        assert_eq!(
            outcome.exit_code(),
            expected,
            "{}: {outcome:?}",
            file.display()
        );
    }
}

/// A regression file says on its first line what it must give:
/// `# expect exit N: why`.
fn expected_exit(text: &str) -> u8 {
    text.lines()
        .next()
        .and_then(|l| l.strip_prefix("# expect exit "))
        .and_then(|l| l.split(':').next())
        .and_then(|n| n.trim().parse().ok())
        .expect("the first line is `# expect exit N: why`")
}
