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

/// A PATH with the built `pacsim` first (a link in `dir`/bin), for
/// commands run as a user or a batch system would run them.
pub fn path_with_pacsim(dir: &Path) -> String {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_pacsim"), bin.join("pacsim")).unwrap();
    format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// Runs the real `pacsim` binary.
pub fn pacsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pacsim"))
        .args(args)
        .output()
        .expect("pacsim runs")
}

/// Runs shipped scenario `name` in memory with `--trace` into `dir`;
/// returns the trace file. Panics with pacsim's stderr if the run fails.
pub fn traced(name: &str, dir: &Path) -> PathBuf {
    let trace = dir.join(format!("{name}.pstrace"));
    let scenario = scenario_path(name);
    let out = pacsim(&[
        "run",
        scenario.to_str().unwrap(),
        "--no-persist",
        "--trace",
        trace.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    trace
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

/// Runs a scenario with every invariant checked after every event; panics
/// with the violation if one breaks.
pub fn checked(s: &pacsim::scenario::Scenario) -> pacsim::run::RunOutput {
    let log = pacsim::store::EventLog::in_memory();
    let out = pacsim::run::simulate_checked(s, log, true, |_, _| {}).expect("runs");
    if let Some(v) = &out.violation {
        panic!("invariant broken: {v}");
    }
    out
}

/// The one Supervisor part `pick` accepts, among a run's actors.
pub fn part<'a, T>(
    actors: &'a [pacsim::actors::WorldActor],
    pick: impl Fn(&'a pacsim::supervisor::actors::SupActor) -> Option<&'a T>,
) -> &'a T {
    actors
        .iter()
        .find_map(|a| match a {
            pacsim::actors::WorldActor::Supervisor(s) => pick(&s.actor),
            _ => None,
        })
        .expect("the part exists")
}

/// The Supervisor's API server among a run's actors.
pub fn api(actors: &[pacsim::actors::WorldActor]) -> &pacsim::supervisor::api_server::ApiServer {
    part(actors, |a| match a {
        pacsim::supervisor::actors::SupActor::ApiServer(x) => Some(x),
        _ => None,
    })
}

/// The body of the first ```yaml block (whatever its tags) in `text`.
pub fn first_yaml_block(text: &str) -> &str {
    let fence = text.find("```yaml").expect("a yaml block");
    let start = fence + text[fence..].find('\n').expect("a fence line") + 1;
    &text[start..start + text[start..].find("```").expect("a closed block")]
}

/// The Supervisor example of docs/scenarios.md, parsed as a file in
/// scenarios/ (its includes resolve from there).
pub fn readme_supervisor_example() -> pacsim::scenario::Scenario {
    let doc = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/scenarios.md"));
    let section = &doc[doc.find("## The Supervisor").expect("Supervisor section")..];
    let text = first_yaml_block(section);
    let path = repo().join("scenarios/README.md");
    pacsim::scenario::parse_scenario(text, &path.display().to_string())
        .unwrap_or_else(|e| panic!("{e}"))
}
