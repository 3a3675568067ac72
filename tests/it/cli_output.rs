//! What the CLI leaves behind: output files (traces, JSON Lines, imported
//! scenarios) appear whole or not at all, whatever fails or runs beside them;
//! a reader of its output that goes away (`| head`) ends it quietly.

use crate::support::{pacsim, repo};
use pacsim::trace::TraceReader;
use pacsim::trace::verify::{Verdict, verify};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// churn-1h stretched to `hours` (about 0.6 MB of trace an hour), in `dir`.
fn churn_scenario(dir: &Path, hours: u32) -> PathBuf {
    let text = std::fs::read_to_string(repo().join("traces/churn-1h.yaml")).unwrap();
    let path = dir.join(format!("churn-{hours}h.yaml"));
    std::fs::write(
        &path,
        text.replace("duration: 1h", &format!("duration: {hours}h")),
    )
    .unwrap();
    path
}

/// Before, export created the output first, so a failed export left it
/// truncated to a header (or a first JSON line) in place of what was there.
#[test]
fn a_failed_export_leaves_an_existing_output_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let cut = dir.path().join("cut.pstrace");
    let bytes = std::fs::read(repo().join("traces/churn-1h.pstrace")).unwrap();
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    for (name, format) in [("old.pstrace", "pstrace"), ("old.jsonl", "jsonl")] {
        let out = dir.path().join(name);
        std::fs::write(&out, b"what was there").unwrap();
        let o = pacsim(&[
            "export",
            cut.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--format",
            format,
        ]);
        assert_eq!(o.status.code(), Some(2), "{format}");
        assert_eq!(std::fs::read(&out).unwrap(), b"what was there", "{format}");
    }
    assert_eq!(
        names_in(dir.path()),
        ["cut.pstrace", "old.jsonl", "old.pstrace"]
    );
}

/// Before, both runs wrote into the one file they had each truncated, and
/// both exited 0 leaving a damaged trace. Now each writes its own file and
/// the last to finish replaces the name with a whole trace.
#[test]
fn two_runs_writing_one_trace_leave_a_whole_trace() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = churn_scenario(dir.path(), 6);
    let trace = dir.path().join("same.pstrace");
    let runs: Vec<_> = ["1", "2"]
        .into_iter()
        .map(|seed| {
            Command::new(env!("CARGO_BIN_EXE_pacsim"))
                .args(["run", scenario.to_str().unwrap(), "--no-persist"])
                .args(["--seed", seed, "--trace", trace.to_str().unwrap()])
                .stdout(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut run in runs {
        assert!(run.wait().unwrap().success());
    }
    match verify(&trace, false, |_, _| {}).unwrap() {
        Verdict::Match { records, .. } => assert!(records > 10_000),
        other => panic!("the trace is not one whole run: {other:?}"),
    }
    assert_eq!(names_in(dir.path()), ["churn-6h.yaml", "same.pstrace"]);
}

/// A child process killed when the test ends, however it ends.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A run killed while writing its trace leaves nothing under the trace's
/// name (before: a truncated trace), only its temporary file, named after it.
#[test]
fn a_killed_run_leaves_no_trace_under_its_name() {
    let dir = tempfile::tempdir().unwrap();
    // A month: it is killed after its first MiB, long before its end, even
    // in a fast build.
    let scenario = churn_scenario(dir.path(), 720);
    let trace = dir.path().join("t.pstrace");
    let mut run = Killed(
        Command::new(env!("CARGO_BIN_EXE_pacsim"))
            .args(["run", scenario.to_str().unwrap(), "--no-persist"])
            .args(["--trace", trace.to_str().unwrap()])
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    // Kill it once some of the trace is on disk, under whatever name.
    let started = Instant::now();
    let written = || {
        std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap())
            .any(|e| e.file_name() != "churn-720h.yaml" && e.metadata().unwrap().len() > 0)
    };
    while !written() {
        assert!(run.0.try_wait().unwrap().is_none(), "the run ended first");
        assert!(started.elapsed() < Duration::from_secs(60));
        std::thread::sleep(Duration::from_millis(5));
    }
    drop(run);
    assert!(!trace.exists(), "a partial trace under the final name");
    let names = names_in(dir.path());
    assert!(
        names
            .iter()
            .any(|n| n.starts_with(".t.pstrace.") && n.ends_with(".tmp")),
        "{names:?}"
    );
    assert!(TraceReader::open(&trace).is_err());
}

/// Starts pacsim with its standard output and error piped.
fn spawn_piped(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_pacsim"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Runs pacsim with its standard output piped, reads the first line, closes
/// the pipe (as `| head -1` does) and returns the exit code and stderr.
fn first_line_then_close(args: &[&str]) -> (Option<i32>, String) {
    let mut child = spawn_piped(args);
    let mut first = String::new();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    stdout.read_line(&mut first).unwrap();
    assert!(!first.is_empty(), "{args:?} printed nothing");
    drop(stdout);
    let o = child.wait_with_output().unwrap();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Before, `println!` panicked on the closed pipe ("failed printing to
/// stdout: Broken pipe", exit 101), and an export or import to /dev/stdout
/// failed with exit 3. Each prints far more than a pipe holds, so it does
/// write after the reader has gone.
#[test]
fn a_closed_stdout_ends_inspect_export_and_import_quietly() {
    let trace = repo().join("traces/quickstart.pstrace");
    let trace = trace.to_str().unwrap();
    let slice = repo().join("traces/azure-bins-slice/v1.dev.txt");
    let runs: [&[&str]; 4] = [
        &["inspect", trace],
        &["inspect", trace, "--kind", "VmRequested,VmPowerOn"],
        &["export", trace, "-o", "/dev/stdout", "--format", "jsonl"],
        &[
            "import",
            "azure-bins",
            slice.to_str().unwrap(),
            "-o",
            "/dev/stdout",
        ],
    ];
    for args in runs {
        let (code, stderr) = first_line_then_close(args);
        assert_eq!(code, Some(0), "{args:?}: {stderr}");
        assert!(
            !stderr.contains("panicked") && !stderr.contains("error"),
            "{args:?}: {stderr}"
        );
    }
}

/// Runs pacsim with its standard output a pipe whose reader has gone
/// before anything is written (as `| head -0`); the exit code and stderr.
fn into_a_closed_pipe(args: &[&str]) -> (Option<i32>, String) {
    let mut child = spawn_piped(args);
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// The commands that print a summary at the end exit with the code of
/// their result when nobody reads it: `fuzz` still says a seed failed.
#[test]
fn a_closed_stdout_leaves_run_plan_and_fuzz_their_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let buggy = dir.path().join("buggy.yaml");
    let ha = std::fs::read_to_string(repo().join("scenarios/ha-small.yaml")).unwrap();
    std::fs::write(&buggy, ha + "debug: {placement_ignores_memory: true}\n").unwrap();
    let (quickstart, mixed) = (
        repo().join("scenarios/quickstart.yaml"),
        repo().join("scenarios/plan-mixed.yaml"),
    );
    let (quickstart, mixed) = (quickstart.to_str().unwrap(), mixed.to_str().unwrap());
    let runs: [(&[&str], i32); 5] = [
        (&["run", quickstart, "--no-persist"], 0),
        (&["run", quickstart, "--no-persist", "--json"], 0),
        (&["plan", mixed, "--seeds", "1"], 0),
        (&["plan", mixed, "--seeds", "1", "--vary", "hosts=6,8"], 0),
        (&["fuzz", buggy.to_str().unwrap(), "--seeds", "1..2"], 1),
    ];
    for (args, expected) in runs {
        let (code, stderr) = into_a_closed_pipe(args);
        assert_eq!(code, Some(expected), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

/// A path to nothing is a wrong argument (exit 2) for every command that
/// reads one, as it is for `run`.
#[test]
fn a_missing_input_is_bad_input_for_every_reader() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nothing.pstrace");
    let missing = missing.to_str().unwrap();
    let out = dir.path().join("x");
    let out = out.to_str().unwrap();
    let runs: [&[&str]; 5] = [
        &["run", missing, "--no-persist"],
        &["inspect", missing],
        &["export", missing, "-o", out],
        &["replay", missing, "--verify"],
        &["plan", missing],
    ];
    for args in runs {
        let o = Command::new(env!("CARGO_BIN_EXE_pacsim"))
            .args(args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("nothing.pstrace"), "{args:?}: {stderr}");
    }
}
