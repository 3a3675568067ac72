//! Helpers shared by the integration tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root (scenarios/ lives there).
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn scenario_path(name: &str) -> PathBuf {
    repo().join("scenarios").join(name)
}

/// Runs the real `pacsim` binary.
pub fn pacsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pacsim"))
        .args(args)
        .output()
        .expect("pacsim runs")
}

pub fn stdout_json(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "pacsim failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    serde_json::from_slice(&out.stdout).expect("stdout is one JSON object")
}

pub fn load(path: &Path) -> pacsim::scenario::Scenario {
    pacsim::scenario::load_scenario(path).expect("scenario parses")
}

/// A record sink that keeps every record (for tests that read the log).
#[derive(Default)]
pub struct Records(pub Vec<pacsim::event::Record>);

impl pacsim::sim::RecordSink for Records {
    fn record(&mut self, r: &pacsim::event::RecordRef<'_>) {
        self.0.push(pacsim::event::Record {
            seq: r.seq,
            at: r.at,
            from: r.from,
            to: r.to,
            cause: r.cause,
            event: r.event.clone(),
        });
    }
}
