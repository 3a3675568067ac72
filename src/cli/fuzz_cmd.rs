//! `pacsim fuzz SCENARIO --seeds A..B`: swarm testing with invariants on,
//! a progress line, each failure with its reproduce command and shrunk
//! fault schedule, and a summary (seeds/s is wall-clock, measured here).

use super::trace_cmd::Stdout;
use super::{Failure, ranges};
use pacsim::fuzz;
use pacsim::fuzz::profile::SUPERVISOR_RECOVERY;
use pacsim::scenario::load_scenario;
use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

#[derive(clap::Args)]
pub struct FuzzArgs {
    /// The scenario file (YAML).
    scenario: PathBuf,
    /// Seeds to run: `A..B`, B included.
    #[arg(long, default_value = "1..100")]
    seeds: String,
    /// Worker threads (default: available cores).
    #[arg(long)]
    jobs: Option<usize>,
    /// Run only shard I of N (`I/N`, 0-based): the seeds whose position
    /// modulo N is I. `auto/N` takes I from JOB_COMPLETION_INDEX (a
    /// Kubernetes Indexed Job) or SLURM_ARRAY_TASK_ID (a Slurm job array).
    #[arg(long, value_name = "I/N")]
    shard: Option<String>,
}

pub fn run(args: FuzzArgs) -> Result<u8, Failure> {
    let scenario = load_scenario(&args.scenario).map_err(Failure::bad_input)?;
    super::print_notices(&scenario);
    let mut seeds = ranges::seed_range(&args.seeds).map_err(Failure::bad_input)?;
    if let Some(shard) = &args.shard {
        seeds = ranges::take_shard(&seeds, ranges::shard(shard).map_err(Failure::bad_input)?);
    }
    let jobs = super::jobs(args.jobs)?;
    let total = seeds.len();
    // A `\r`-rewritten line is for people; logs get only the summary.
    let show_progress = std::io::stderr().is_terminal();
    let (done, failed) = (AtomicU64::new(0), AtomicU64::new(0));
    let started = Instant::now();
    let on_done = |_seed: u64, fail: bool| {
        let d = done.fetch_add(1, Ordering::Relaxed) + 1;
        let f = failed.fetch_add(u64::from(fail), Ordering::Relaxed) + u64::from(fail);
        if show_progress && (d % 10 == 0 || d as usize == total) {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\rfuzz: {d}/{total} seeds, {f} failing");
            let _ = err.flush();
        }
    };
    let failures = fuzz::fuzz(&scenario, &seeds, jobs, &on_done);
    if show_progress {
        eprintln!();
    }
    let wall = started.elapsed().as_secs_f64();

    let file = shell_word(&args.scenario.display().to_string());
    let mut stdout = Stdout::new();
    let mut by_invariant: BTreeMap<&str, u64> = BTreeMap::new();
    for f in &failures {
        *by_invariant.entry(f.violation.invariant).or_default() += 1;
        let v = &f.violation;
        stdout.line(format_args!(
            "seed {}: invariant `{}` violated at seq {} (t={}): {}",
            f.seed, v.invariant, v.seq, v.at, v.detail
        ));
        stdout.line(format_args!(
            "  reproduce: pacsim run {file} --seed {} --check --no-persist --fault-profile '{}'",
            f.seed,
            f.profile.encode()
        ));
        // What reproduces it in the file: the faults (into its own list
        // when it has one: a second `faults:` key is an error) and the
        // recovery check fuzzing adds to a Supervisor scenario.
        if f.shrunk.items.is_empty() {
            stdout.line(format_args!(
                "  shrunk to 0 of {} faults: the seed alone breaks it",
                f.profile.items.len()
            ));
            continue;
        }
        let into_list = !scenario.faults.is_empty();
        stdout.line(format_args!(
            "  shrunk to {} of {} faults; add to the scenario{}:",
            f.shrunk.items.len(),
            f.profile.items.len(),
            if into_list { "'s `faults:` list" } else { "" }
        ));
        let recovery = (scenario.supervisor.is_some() && scenario.expect_recovery_within.is_none())
            .then(|| {
                format!(
                    "expect_recovery_within: {}   # fuzz checks it",
                    pacsim::model::time::format_span_exact(SUPERVISOR_RECOVERY.0)
                )
            });
        if let (Some(line), false) = (&recovery, into_list) {
            stdout.line(format_args!("    {line}"));
        }
        let yaml = f.shrunk.yaml(&scenario);
        for line in yaml.lines().skip(usize::from(into_list)) {
            stdout.line(format_args!("    {line}"));
        }
        if let (Some(line), true) = (&recovery, into_list) {
            stdout.line(format_args!(
                "  and at the scenario's top level:\n    {line}"
            ));
        }
    }
    let distinct: Vec<String> = by_invariant
        .iter()
        .map(|(k, v)| format!("{k} ({v})"))
        .collect();
    stdout.line(format_args!(
        "fuzz: {} seeds, {} failing, invariants broken: {}, {:.1} seeds/s on {jobs} threads",
        total,
        failures.len(),
        if distinct.is_empty() {
            "none".to_string()
        } else {
            distinct.join(", ")
        },
        total as f64 / wall.max(1e-9)
    ));
    stdout.finish()?;
    Ok(if failures.is_empty() { 0 } else { 1 })
}

/// `text` as one POSIX shell word: as it is when it is plain, else in
/// single quotes (a quote inside as `'\''`), so that the printed command
/// runs as pasted.
fn shell_word(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-+,:=@%".contains(&b));
    if plain {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::shell_word;

    #[test]
    fn a_path_is_one_shell_word() {
        assert_eq!(
            shell_word("scenarios/ha-small.yaml"),
            "scenarios/ha-small.yaml"
        );
        assert_eq!(shell_word("my dir/x.yaml"), "'my dir/x.yaml'");
        assert_eq!(shell_word("bug'gy.yaml"), "'bug'\\''gy.yaml'");
    }
}
