//! `pacsim fuzz-inputs --cases A..B` (hidden; `scripts/input-fuzz.sh`
//! runs it): a campaign of mutated scenario files, for pacsim's own
//! developers. Worker processes run the cases in-process, one after the
//! other, and report each on a line; this parent survives what kills a
//! worker. A worker that dies mid-case (a panic that escaped, an abort on
//! a failed allocation, a signal) or goes silent past `--case-timeout`
//! leaves a crash or hang with its reproducer in `--out`; a case whose
//! peak memory passed the budget without the watchdog's exit 3 is an
//! overshoot. All three are failures (exit 1).
//!
//! Worker protocol, one line per event on stdout: `start N`, then
//! `done N EXIT KIND MICROS`, where KIND says why an exit 3 stopped
//! (memory, stall, cap, io) and is `-` otherwise; `over N PEAK` marks an
//! overshoot.

use super::trace_cmd::Stdout;
use super::{Failure, ranges};
use hdrhistogram::Histogram;
use pacsim::fuzz::inputs::{Outcome, mutate, run_case};
use pacsim::run::watchdog::RunLimits;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

#[derive(clap::Args)]
pub struct InputFuzzArgs {
    /// Cases to run: `A..B`, B included.
    #[arg(long, default_value = "0..9999")]
    cases: String,
    /// The mutation stream's seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Worker processes.
    #[arg(long, default_value_t = 2)]
    jobs: usize,
    /// The folder of the scenarios to mutate (their includes resolve there).
    #[arg(long, default_value = "scenarios")]
    corpus: PathBuf,
    /// Where crashes, hangs and overshoots are written, with a summary.
    #[arg(long, default_value = "runs/input-fuzz")]
    out: PathBuf,
    /// Each case stops after this many events (exit 3, kind `cap`).
    #[arg(long, default_value_t = 1 << 20)]
    max_events: u64,
    /// Each worker's memory budget (the watchdog's), in bytes.
    #[arg(long, default_value_t = 2 << 30)]
    memory_budget: u64,
    /// A case silent for this many seconds is a hang.
    #[arg(long, default_value_t = 120)]
    case_timeout: u64,
    /// Run as a worker (internal: the parent passes it).
    #[arg(long, hide = true)]
    worker: bool,
}

pub fn run(args: InputFuzzArgs) -> Result<u8, Failure> {
    let range = ranges::range_of("--cases", &args.cases).map_err(Failure::bad_input)?;
    let (Some(&first), Some(&last)) = (range.first(), range.last()) else {
        return Err(Failure::bad_input("--cases is empty"));
    };
    let corpus = read_corpus(&args.corpus)?;
    if args.worker {
        return worker(&args, &corpus, first..=last);
    }
    parent(&args, &corpus, first, last)
}

fn read_corpus(dir: &Path) -> Result<Vec<(String, String)>, Failure> {
    pacsim::fuzz::inputs::CORPUS
        .iter()
        .map(|name| {
            let path = dir.join(name);
            let text = std::fs::read_to_string(&path)
                .map_err(|e| Failure::io(format!("cannot read {}: {e}", path.display())))?;
            Ok((path.display().to_string(), text))
        })
        .collect()
}

/// Case `case`'s file name (its includes resolve beside it) and text.
fn case_text(corpus: &[(String, String)], seed: u64, case: u64) -> (&str, String) {
    let (file, base) = &corpus[(case % corpus.len() as u64) as usize];
    (file, mutate(base, seed, case))
}

fn worker(
    args: &InputFuzzArgs,
    corpus: &[(String, String)],
    cases: std::ops::RangeInclusive<u64>,
) -> Result<u8, Failure> {
    let limits = RunLimits {
        memory_budget: Some(args.memory_budget),
        max_events: Some(args.max_events),
        ..RunLimits::unlimited()
    };
    let mut out = std::io::stdout().lock();
    // Panics are outcomes here, reported by the parent; keep stderr quiet.
    std::panic::set_hook(Box::new(|_| {}));
    for case in cases.step_by(args.jobs.max(1)) {
        let (file, text) = case_text(corpus, args.seed, case);
        say(&mut out, format_args!("start {case}"));
        let started = Instant::now();
        let outcome = run_case(&text, file, limits, None);
        let micros = started.elapsed().as_micros();
        let kind = match &outcome {
            Outcome::Stopped(kind, _) => kind,
            _ => "-",
        };
        let peak = peak_resident();
        if peak.is_some_and(|p| p > args.memory_budget + args.memory_budget / 4) && kind != "memory"
        {
            say(&mut out, format_args!("over {case} {}", peak.unwrap_or(0)));
        }
        say(
            &mut out,
            format_args!("done {case} {} {kind} {micros}", outcome.exit_code()),
        );
        reset_peak_resident();
        // A worker left holding much memory by a big case starts afresh.
        if resident().is_some_and(|r| r > args.memory_budget / 2) {
            break;
        }
    }
    Ok(0)
}

fn say(out: &mut impl Write, line: std::fmt::Arguments) {
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kib: u64 = line[field.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

fn peak_resident() -> Option<u64> {
    status_kib("VmHWM:")
}

fn resident() -> Option<u64> {
    status_kib("VmRSS:")
}

/// Resets VmHWM to the current RSS (Linux `clear_refs` 5), so each case
/// is judged by its own peak.
fn reset_peak_resident() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// What the parent tallies.
#[derive(Default)]
struct Tally {
    exits: [u64; 4],
    stops: BTreeMap<String, u64>,
    crashes: Vec<u64>,
    hangs: Vec<u64>,
    overshoots: Vec<u64>,
}

fn parent(
    args: &InputFuzzArgs,
    corpus: &[(String, String)],
    first: u64,
    last: u64,
) -> Result<u8, Failure> {
    std::fs::create_dir_all(&args.out)
        .map_err(|e| Failure::io(format!("cannot create {}: {e}", args.out.display())))?;
    let jobs = args.jobs.max(1) as u64;
    let total = last - first + 1;
    let started = Instant::now();
    let mut micros = Histogram::<u64>::new(3).expect("3 significant figures");
    let mut tally = Tally::default();
    let (tx, rx) = mpsc::channel::<(u64, Option<String>)>();
    // Worker w takes cases first + w, first + w + jobs, ...
    let mut next: Vec<u64> = (0..jobs).map(|w| first + w).collect();
    let mut children: Vec<Option<Child>> = (0..jobs)
        .map(|w| spawn(args, next[w as usize], last, &tx, w).map(Some))
        .collect::<Result<_, _>>()?;
    let mut running: Vec<Option<(u64, Instant)>> = vec![None; jobs as usize];
    let mut done = 0u64;
    while children.iter().any(Option::is_some) {
        match rx.recv_timeout(Duration::from_secs(1)) {
            Ok((w, Some(line))) => {
                let w = w as usize;
                let mut words = line.split_whitespace();
                match (
                    words.next(),
                    words.next().and_then(|n| n.parse::<u64>().ok()),
                ) {
                    (Some("start"), Some(case)) => running[w] = Some((case, Instant::now())),
                    (Some("over"), Some(case)) => {
                        tally.overshoots.push(case);
                        keep(args, corpus, case, "overshoot", &line);
                    }
                    (Some("done"), Some(case)) => {
                        let rest: Vec<&str> = words.collect();
                        let exit: usize = rest.first().and_then(|e| e.parse().ok()).unwrap_or(0);
                        tally.exits[exit.min(3)] += 1;
                        if let Some(kind) = rest.get(1).filter(|k| **k != "-") {
                            *tally.stops.entry(kind.to_string()).or_default() += 1;
                        }
                        if let Some(us) = rest.get(2).and_then(|u| u.parse().ok()) {
                            let _ = micros.record(us);
                        }
                        running[w] = None;
                        next[w] = case + jobs;
                        done += 1;
                        if done.is_multiple_of(1000) {
                            eprintln!(
                                "{done}/{total} cases, {:.0} cases/s",
                                done as f64 / started.elapsed().as_secs_f64()
                            );
                        }
                    }
                    _ => {}
                }
            }
            Ok((w, None)) => {
                // The worker's stdout closed: it ended, or died.
                let w = w as usize;
                let status = children[w].take().map(|mut c| c.wait());
                if let Some((case, _)) = running[w].take() {
                    let how = format!("{status:?}");
                    tally.crashes.push(case);
                    keep(args, corpus, case, "crash", &how);
                    done += 1;
                    next[w] = case + jobs;
                }
                if next[w] <= last {
                    children[w] = Some(spawn(args, next[w], last, &tx, w as u64)?);
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
        for (w, slot) in running.iter_mut().enumerate() {
            let Some((case, since)) = *slot else { continue };
            if since.elapsed() > Duration::from_secs(args.case_timeout)
                && let Some(child) = children[w].as_mut()
            {
                // Its stdout closes next and it is restarted there; with
                // no case running it is not also counted as a crash.
                let _ = child.kill();
                *slot = None;
                tally.hangs.push(case);
                keep(
                    args,
                    corpus,
                    case,
                    "hang",
                    "no answer within --case-timeout",
                );
                done += 1;
                next[w] = case + jobs;
            }
        }
    }
    let report = summary(&tally, &micros, total, started.elapsed().as_secs_f64());
    let _ = std::fs::write(args.out.join("summary.txt"), &report);
    let mut stdout = Stdout::new();
    stdout.print(&report);
    stdout.finish()?;
    let failed = tally.crashes.len() + tally.hangs.len() + tally.overshoots.len();
    Ok(u8::from(failed > 0))
}

fn spawn(
    args: &InputFuzzArgs,
    from: u64,
    last: u64,
    tx: &mpsc::Sender<(u64, Option<String>)>,
    w: u64,
) -> Result<Child, Failure> {
    let exe =
        std::env::current_exe().map_err(|e| Failure::io(format!("cannot find pacsim: {e}")))?;
    let mut child = Command::new(exe)
        .args(["fuzz-inputs", "--worker"])
        .arg("--cases")
        .arg(format!("{from}..{last}"))
        .arg("--seed")
        .arg(args.seed.to_string())
        .arg("--jobs")
        .arg(args.jobs.to_string())
        .arg("--corpus")
        .arg(&args.corpus)
        .arg("--max-events")
        .arg(args.max_events.to_string())
        .arg("--memory-budget")
        .arg(args.memory_budget.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| Failure::io(format!("cannot start a worker: {e}")))?;
    let stdout = child.stdout.take().expect("piped");
    let tx = tx.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send((w, Some(line))).is_err() {
                return;
            }
        }
        let _ = tx.send((w, None));
    });
    Ok(child)
}

/// Writes case `case`'s text as `<what>-<case>.yaml`, with why on its
/// first line (the reproducer: `pacsim run` it from the corpus folder).
fn keep(args: &InputFuzzArgs, corpus: &[(String, String)], case: u64, what: &str, why: &str) {
    let (file, text) = case_text(corpus, args.seed, case);
    let path = args.out.join(format!("{what}-{case}.yaml"));
    let _ = std::fs::write(
        &path,
        format!("# {what} of case {case} ({file}): {why}\n{text}"),
    );
    eprintln!("{what}: case {case}, kept in {}", path.display());
}

fn summary(t: &Tally, micros: &Histogram<u64>, total: u64, wall: f64) -> String {
    let stops: Vec<String> = t.stops.iter().map(|(k, n)| format!("{k} {n}")).collect();
    let ms = |q: f64| micros.value_at_quantile(q) as f64 / 1000.0;
    format!(
        "cases tried        {total}\n\
         exit 0 / 1 / 2 / 3 {} / {} / {} / {} (exit 3: {})\n\
         crashes            {} {:?}\n\
         hangs              {} {:?}\n\
         overshoots         {} {:?}\n\
         time per case      median {:.2} ms, p99 {:.2} ms, max {:.2} ms\n\
         wall time          {wall:.0} s ({:.0} cases/s)\n",
        t.exits[0],
        t.exits[1],
        t.exits[2],
        t.exits[3],
        if stops.is_empty() {
            "none".into()
        } else {
            stops.join(", ")
        },
        t.crashes.len(),
        t.crashes,
        t.hangs.len(),
        t.hangs,
        t.overshoots.len(),
        t.overshoots,
        ms(0.5),
        ms(0.99),
        micros.max() as f64 / 1000.0,
        total as f64 / wall,
    )
}
