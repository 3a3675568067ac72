//! The scale-out examples of docs/scale-out.md run as their engines would
//! run them: the Kubernetes Indexed Job's args for every completion index
//! (with `$(JOB_COMPLETION_INDEX)` expanded and the index in the
//! environment), the Slurm array's script for every task id; then the
//! merge step. The merged report is the one-machine plan's, byte for byte.

use super::support::{path_with_pacsim, repo};
use std::path::Path;
use std::process::Command;

const EXAMPLES: &str = "docs/examples";

/// The `args: [...]` of a manifest's container (one line, a JSON array).
fn args_of(manifest: &str) -> Vec<String> {
    let line = manifest
        .lines()
        .find_map(|l| l.trim().strip_prefix("args: "))
        .expect("an args line");
    serde_json::from_str(line).expect("args is a JSON-style flow sequence")
}

/// `key: N` of a manifest.
fn number_of(manifest: &str, key: &str) -> usize {
    manifest
        .lines()
        .find_map(|l| l.trim().strip_prefix(&format!("{key}: ")))
        .unwrap_or_else(|| panic!("no {key}"))
        .parse()
        .unwrap()
}

fn pacsim_in(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_pacsim"));
    c.current_dir(dir);
    c
}

fn assert_ok(what: &str, out: std::process::Output) {
    assert!(
        out.status.success(),
        "{what}: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
}

/// The one-machine plan of the examples, written to `dir/one`.
fn one_machine(dir: &Path) -> std::path::PathBuf {
    let out = dir.join("one");
    let scenario = repo().join("scenarios/plan-mixed.yaml");
    assert_ok(
        "one machine",
        pacsim_in(dir)
            .args([
                "plan",
                scenario.to_str().unwrap(),
                "--seeds",
                "1..8",
                "--failures",
                "1",
                "--out",
            ])
            .arg(&out)
            .output()
            .unwrap(),
    );
    out
}

fn assert_same_report(merged: &Path, one: &Path) {
    for file in ["report.json", "report.html", "report.csv"] {
        let (a, b) = (
            std::fs::read(merged.join(file)).unwrap(),
            std::fs::read(one.join(file)).unwrap(),
        );
        assert!(
            a == b,
            "{file}: the merge differs from the one-machine plan"
        );
    }
}

#[test]
fn an_indexed_job_and_its_merge_give_the_one_machine_plan() {
    let dir = tempfile::tempdir().unwrap();
    let job = std::fs::read_to_string(repo().join(EXAMPLES).join("plan-indexed-job.yaml")).unwrap();
    let merge =
        std::fs::read_to_string(repo().join(EXAMPLES).join("plan-indexed-job-merge.yaml")).unwrap();
    // The image's paths, here: the repository and a results folder.
    let results = dir.path().join("results");
    let local = |arg: &str| {
        arg.replace("/pacsim/", &format!("{}/", repo().display()))
            .replace("/results/", &format!("{}/", results.display()))
    };
    let completions = number_of(&job, "completions");
    for index in 0..completions {
        let args: Vec<String> = args_of(&job)
            .iter()
            .map(|a| local(&a.replace("$(JOB_COMPLETION_INDEX)", &index.to_string())))
            .collect();
        let out = pacsim_in(dir.path())
            .args(&args)
            .env("JOB_COMPLETION_INDEX", index.to_string())
            .env_remove("SLURM_ARRAY_TASK_ID")
            .output()
            .unwrap();
        assert_ok(&format!("index {index}"), out);
    }
    let args: Vec<String> = args_of(&merge).iter().map(|a| local(a)).collect();
    assert_ok("merge", pacsim_in(dir.path()).args(&args).output().unwrap());
    assert_same_report(&results.join("merged"), &one_machine(dir.path()));
}

#[test]
fn a_slurm_array_and_its_merge_give_the_one_machine_plan() {
    let dir = tempfile::tempdir().unwrap();
    let script = repo().join(EXAMPLES).join("plan-slurm.sbatch");
    let text = std::fs::read_to_string(&script).unwrap();
    let range = text
        .lines()
        .find_map(|l| l.strip_prefix("#SBATCH --array="))
        .expect("an --array line");
    let (lo, hi) = range.split_once('-').unwrap();
    let (lo, hi): (usize, usize) = (lo.parse().unwrap(), hi.parse().unwrap());
    // Slurm runs the script in the submit folder, the repository's root.
    let root = dir.path().join("repo");
    std::fs::create_dir_all(&root).unwrap();
    std::os::unix::fs::symlink(repo().join("scenarios"), root.join("scenarios")).unwrap();
    let path = path_with_pacsim(dir.path());
    for id in lo..=hi {
        let out = Command::new("bash")
            .arg(&script)
            .current_dir(&root)
            .env("PATH", &path)
            .env_remove("JOB_COMPLETION_INDEX")
            .env("SLURM_ARRAY_TASK_ID", id.to_string())
            .env("SLURM_ARRAY_TASK_MIN", lo.to_string())
            .env("SLURM_ARRAY_TASK_COUNT", (hi - lo + 1).to_string())
            .output()
            .unwrap();
        assert_ok(&format!("task {id}"), out);
    }
    let out = Command::new("bash")
        .arg(repo().join(EXAMPLES).join("plan-slurm-merge.sbatch"))
        .current_dir(&root)
        .env("PATH", &path)
        .output()
        .unwrap();
    assert_ok("merge", out);
    assert_same_report(&root.join("results/merged"), &one_machine(dir.path()));
}

/// A merge says how many runs the shards held and how many it ran itself
/// (a shard not given leaves its seeds to run); a shard's report that is
/// not there is bad input.
#[test]
fn a_merge_counts_the_runs_it_did_itself() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = repo().join("scenarios/plan-mixed.yaml");
    let plan = |extra: &[&str]| {
        let mut args = vec![
            "plan",
            scenario.to_str().unwrap(),
            "--seeds",
            "1..4",
            "--failures",
            "1",
        ];
        args.extend_from_slice(extra);
        pacsim_in(dir.path()).args(&args).output().unwrap()
    };
    assert_ok("shard", plan(&["--shard", "0/2", "--out", "a"]));
    let half = plan(&["--merge", "a/report.json"]);
    assert_ok("merge of one shard", half.clone());
    let said = String::from_utf8_lossy(&half.stderr);
    let line = said.lines().find(|l| l.starts_with("merge: ")).unwrap();
    let numbers: Vec<u64> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect();
    let [from_shards, here, all] = numbers[..] else {
        panic!("{line}")
    };
    assert!(from_shards > 0 && here > 0, "{line}");
    assert_eq!(from_shards + here, all, "{line}");
    let missing = plan(&["--merge", "nowhere/report.json"]);
    assert_eq!(missing.status.code(), Some(2));
}
