//! Input fuzzing: scenario files mutated the way hostile or careless users
//! mutate them (flipped bytes, extreme numbers, lines deleted, duplicated
//! and swapped, values of the wrong type, includes of odd files), and one
//! case run the way `pacsim run` runs it, to an exit code. What must hold
//! for every case: no panic, no abort, and no run past its memory budget
//! without the watchdog's stop. `tests/it/input_fuzz.rs` runs a few
//! thousand cases in CI; `scripts/input-fuzz.sh` runs long campaigns.
//!
//! Each case is a function of (base text, case number) alone.

use crate::random::StreamRng;
use crate::report::expect::{self, Verdict};
use crate::run::simulate_limited;
use crate::run::watchdog::{Cause, RunLimits};
use crate::scenario::{parse_scenario, sanity};
use crate::store::EventLog;
use rand::RngExt;
use rand::seq::IndexedRandom;
use std::path::Path;

/// Numbers that break naive arithmetic: zero, the edges of the integer
/// types, past them, and texts that only look like numbers.
const EXTREME_NUMBERS: [&str; 22] = [
    "0",
    "-1",
    "1",
    "255",
    "65536",
    "2147483648",
    "4294967295",
    "4294967296",
    "9223372036854775807",
    "9223372036854775808",
    "18446744073709551615",
    "18446744073709551616",
    "99999999999999999999999999999999",
    "0.0000000001",
    "1e308",
    "-0",
    ".inf",
    ".nan",
    "0x10",
    "1_000",
    "٣",
    "",
];

/// Units swapped in and out of quantities.
const UNITS: [&str; 16] = [
    "ns", "us", "ms", "s", "m", "h", "d", "Ki", "Gi", "Pi", "K", "P", "m", "/s", "/d", "%",
];

/// Values of another type than the one a field wants.
const WRONG_TYPES: [&str; 12] = [
    "[]",
    "{}",
    "~",
    "[1, 2, 3]",
    "{a: 1}",
    "\"text\"",
    "true",
    "!!binary aGVsbG8=",
    "&anchor 1",
    "*anchor",
    "|\n  block",
    "[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]",
];

/// Paths an `include:` should never follow into trouble.
const ODD_INCLUDES: [&str; 10] = [
    "/dev/urandom",
    "/dev/zero",
    "/dev/null",
    "/",
    "/proc/self/status",
    "/proc/self/mem",
    "does/not/exist.yaml",
    "../../../../../../etc/passwd",
    "manifests",
    "\"\"",
];

/// The shipped scenarios whose texts are mutated, in case order (the
/// churn benchmarks only make cases slower: their inputs are quickstart's
/// kinds). Case `n` mutates `CORPUS[n % len]`.
pub const CORPUS: [&str; 7] = [
    "quickstart.yaml",
    "ha-small.yaml",
    "supervisor-basic.yaml",
    "guest-clusters.yaml",
    "plan-mixed.yaml",
    "plan-azure.yaml",
    "plan-supervisor.yaml",
];

/// A mutated scenario: `mutations` (1 to 4) applied to `base`, drawn from
/// the stream of (`seed`, `case`).
pub fn mutate(base: &str, seed: u64, case: u64) -> String {
    let mut rng = StreamRng::derive(seed, &format!("input-fuzz/{case}"));
    let mut lines: Vec<String> = base.lines().map(str::to_string).collect();
    // Mostly one or two changes, so that many cases get past loading.
    let mutations = [1, 1, 1, 1, 2, 2, 3, 4][rng.random_range(0..8)];
    for _ in 0..mutations {
        if lines.is_empty() {
            lines.push(String::new());
        }
        let i = rng.random_range(0..lines.len());
        match rng.random_range(0..10) {
            0 => flip_byte(&mut lines[i], &mut rng),
            1 | 2 => replace_number(&mut lines[i], &mut rng),
            3 => {
                lines.remove(i);
            }
            4 => {
                let copy = lines[i].clone();
                lines.insert(i, copy);
            }
            5 => {
                let j = rng.random_range(0..lines.len());
                lines.swap(i, j);
            }
            6 => replace_value(&mut lines[i], pick(&WRONG_TYPES, &mut rng)),
            7 => swap_unit(&mut lines[i], &mut rng),
            8 => odd_include(&mut lines, i, &mut rng),
            _ => repeat_block(&mut lines, i, &mut rng),
        }
    }
    let mut text = lines.join("\n");
    text.push('\n');
    text
}

fn pick<'a>(items: &[&'a str], rng: &mut StreamRng) -> &'a str {
    items.choose(rng).copied().unwrap_or_default()
}

/// One byte changed to another: any byte, so the text may stop being
/// UTF-8 (the line is then rebuilt lossily, which is also a change).
fn flip_byte(line: &mut String, rng: &mut StreamRng) {
    let mut bytes = std::mem::take(line).into_bytes();
    if bytes.is_empty() {
        bytes.push(b' ');
    }
    let at = rng.random_range(0..bytes.len());
    bytes[at] = rng.random();
    *line = String::from_utf8_lossy(&bytes).into_owned();
}

/// The first number on the line (digits, with a decimal point) becomes an
/// extreme one; a line without digits gets one after its colon.
fn replace_number(line: &mut String, rng: &mut StreamRng) {
    let new = pick(&EXTREME_NUMBERS, rng);
    match line.find(|c: char| c.is_ascii_digit()) {
        Some(start) => {
            let end = line[start..]
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .map_or(line.len(), |n| start + n);
            line.replace_range(start..end, new);
        }
        None => replace_value(line, new),
    }
}

/// The value after the line's first `: ` becomes `value`.
fn replace_value(line: &mut String, value: &str) {
    match line.find(": ") {
        Some(colon) => {
            line.truncate(colon + 2);
            line.push_str(value);
        }
        None => line.push_str(value),
    }
}

/// A unit word in the line becomes another (`24h` -> `24ns`, `8Gi` -> `8Pi`).
fn swap_unit(line: &mut String, rng: &mut StreamRng) {
    let bytes = line.as_bytes();
    let after_digit =
        (1..bytes.len()).find(|&k| bytes[k - 1].is_ascii_digit() && bytes[k].is_ascii_alphabetic());
    let new = pick(&UNITS, rng);
    match after_digit {
        Some(k) => {
            let end = line[k..]
                .find(|c: char| !c.is_ascii_alphabetic())
                .map_or(line.len(), |n| k + n);
            line.replace_range(k..end, new);
        }
        None => line.push_str(new),
    }
}

/// An existing `include:` points somewhere odd, or a manifests entry that
/// includes an odd path is added after line `i`.
fn odd_include(lines: &mut Vec<String>, i: usize, rng: &mut StreamRng) {
    let path = pick(&ODD_INCLUDES, rng);
    if let Some(line) = lines.iter_mut().find(|l| l.contains("include:")) {
        replace_value(line, path);
        return;
    }
    let indent = lines[i].len() - lines[i].trim_start().len();
    let pad = " ".repeat(indent);
    lines.insert(
        i + 1,
        format!("{pad}- {{user: administrator@vsphere.local, include: {path}}}"),
    );
}

/// Lines `i..i+n` repeated many times: many hosts, VMs, faults, documents.
fn repeat_block(lines: &mut Vec<String>, i: usize, rng: &mut StreamRng) {
    let n = rng.random_range(1..=4).min(lines.len() - i);
    let times = rng.random_range(1..=200);
    let block: Vec<String> = lines[i..i + n].to_vec();
    for _ in 0..times {
        for (k, line) in block.iter().enumerate() {
            lines.insert(i + n + k, line.clone());
        }
    }
}

/// How one case ended, as the exit code `pacsim run` would give.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Exit 0.
    Ran,
    /// Exit 1: an `expect:` failed or an invariant broke.
    Failed,
    /// Exit 2: refused when loading, with the message.
    Refused(String),
    /// Exit 3: stopped by the watchdog (or an I/O error): why (`memory`,
    /// `stall`, `cap`, `io`), and the message.
    Stopped(&'static str, String),
}

impl Outcome {
    pub fn exit_code(&self) -> u8 {
        match self {
            Outcome::Ran => 0,
            Outcome::Failed => 1,
            Outcome::Refused(_) => 2,
            Outcome::Stopped(..) => 3,
        }
    }
}

fn stop_kind(cause: &Cause) -> &'static str {
    match cause {
        Cause::Memory { .. } => "memory",
        Cause::Stalled { .. } => "stall",
        Cause::EventCap { .. } => "cap",
    }
}

/// Runs `text` as `pacsim run FILE` would, where `file` is the path the
/// text pretends to have (its includes resolve beside it): load, warn, run
/// within `limits` (persisted into `log_dir` when given), check `expect:`.
pub fn run_case(text: &str, file: &str, limits: RunLimits, log_dir: Option<&Path>) -> Outcome {
    let scenario = match parse_scenario(text, file) {
        Ok(s) => s,
        Err(e) => return Outcome::Refused(e.to_string()),
    };
    let _ = sanity::warnings(&scenario);
    let log = match log_dir {
        Some(dir) => match EventLog::create(dir, &scenario.source, scenario.seed) {
            Ok(log) => log,
            Err(e) => return Outcome::Stopped("io", e.to_string()),
        },
        None => EventLog::in_memory(),
    };
    let mut output = match simulate_limited(&scenario, log, false, limits, |_, _| {}) {
        Ok(o) => o,
        Err(e) => return Outcome::Stopped("io", e.to_string()),
    };
    if let Some(stopped) = &output.stopped {
        return Outcome::Stopped(stop_kind(&stopped.cause), stopped.to_string());
    }
    if output.violation.is_some() {
        return Outcome::Failed;
    }
    let summary = output.summary(&scenario, 0.0).to_json();
    for e in &scenario.expect {
        match expect::check(e, &summary, &scenario.file) {
            Verdict::Held { .. } => {}
            Verdict::Failed { .. } | Verdict::NoSamples => return Outcome::Failed,
            Verdict::Unknown(message) => return Outcome::Refused(message),
        }
    }
    Outcome::Ran
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str =
        "seed: 1\nduration: 24h\ndatacenter:\n  host_models: [{name: m, cpu: 64, memory: 512Gi}]\n";

    #[test]
    fn a_case_is_a_function_of_its_number() {
        assert_eq!(mutate(BASE, 7, 3), mutate(BASE, 7, 3));
        let distinct: std::collections::BTreeSet<String> =
            (0..50).map(|case| mutate(BASE, 7, case)).collect();
        assert!(distinct.len() > 40, "{} distinct of 50", distinct.len());
    }

    #[test]
    fn numbers_units_and_values_are_replaced_in_place() {
        let mut line = "  cpu: 64, memory: 512Gi".to_string();
        replace_value(&mut line, "[]");
        assert_eq!(line, "  cpu: []");
        let mut line = "duration: 24h".to_string();
        let mut rng = StreamRng::derive(1, "t");
        swap_unit(&mut line, &mut rng);
        assert!(
            line.starts_with("duration: 24") && line != "duration: 24h",
            "{line}"
        );
        let mut line = "rate: 1.5/s".to_string();
        replace_number(&mut line, &mut rng);
        assert!(!line.contains("1.5"), "{line}");
    }
}
