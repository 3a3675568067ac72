//! `azure-bins`: the Azure V1 VM arrivals re-encoded by Huawei Cloud. PATH is
//! an arrivals file `v1.<split>.txt` ("<t> tok,tok,|,tok,|": each letter is
//! one VM of that flavour created at t seconds, `|` closes a tenant batch).
//! Beside it: `flav_map.txt` ("<cores>,<GB> <letter>"),
//! `v1.interval_map.txt` ("<lifetime s> <bin>") and, when present,
//! `v1.<split>.c<CENS>.txt`, whose token i is the lifetime of VM i of the
//! same line: `U<bin>` ended, `C<bin>` still alive at CENS (censored).
//!
//! Time 0 is the first bin of the file (t of its first line). Lifetimes are
//! 300-s measurements, so a bin listing lifetimes lo..hi covers
//! `[lo, hi + 300 s)`; `--lifetime-in-bin` picks lower (lo), mid or upper
//! (hi + 300 s). Without a lifetimes file (the train split) every VM is
//! censored. Memory GB is taken as GiB (Azure sizes).
//!
//! Both files' lines start with t, strictly increasing; an arrivals line is
//! paired with the lifetimes line of the same t (not of the same position),
//! so a bad or missing line in either costs that line only under
//! `--skip-bad-rows`.

use super::collect::{Collector, Origin, secs};
use super::error::ImportError;
use super::rows::{Rows, Skip, parse_f64, parse_u64, scaled};
use super::{ImportOptions, ImportedWorkload, LifetimeInBin, TraceFormat};
use crate::model::Resources;
use crate::model::resources::GIB;
use std::collections::BTreeMap;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

/// The measurement step of Azure V1 timestamps.
const STEP_S: u64 = 300;

pub(crate) fn import(path: &Path, opts: &ImportOptions) -> Result<ImportedWorkload, ImportError> {
    // The arrivals file first: when PATH is wrong, that is what to say.
    let mut rows = open_arrivals(path, opts)?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let flavours = read_flavours(&dir.join("flav_map.txt"), opts)?;
    let bins = read_bins(&dir.join("v1.interval_map.txt"), opts)?;
    let lifetimes_path = find_lifetimes(path)?;
    let mut lifetimes = match &lifetimes_path {
        Some(p) => Some(Lifetimes::open(p, opts.skip_bad_rows)?),
        None => None,
    };
    let table = Tables {
        flavours: &flavours,
        bins: &bins,
        point: opts.lifetime_in_bin,
    };
    let mut out = Collector::new(TraceFormat::AzureBins, rows.file());
    let (mut first_t, mut last_t) = (None, None);
    while rows.advance()? {
        let Some(t) = rows.check(line_time(rows.line(), last_t))? else {
            continue;
        };
        last_t = Some(t);
        let life_line = match lifetimes.as_mut() {
            Some(l) => match l.line_at(t)? {
                Some(line) => Some(line),
                None => {
                    let missing = format!("{} has no line for time {t}", l.rows.file());
                    rows.check::<()>(Err(missing))?;
                    continue;
                }
            },
            None => None,
        };
        let life = life_line
            .as_ref()
            .map(|(line, at)| (line.as_str(), at.as_str()));
        let parsed = parse_line(rows.line(), life, &table);
        let Some((t, vms)) = rows.check(parsed)? else {
            continue;
        };
        first_t.get_or_insert(t);
        for (i, (size, life)) in vms.into_iter().enumerate() {
            let start = secs(t);
            let pushed = out.push(
                format!("az-{t}-{i}"),
                size,
                start,
                life.map(|l| start.saturating_add(l)),
            );
            rows.check(pushed)?;
        }
    }
    let point = opts.lifetime_in_bin.name();
    let mut rules = vec![
        "each flavour letter at line time t is one VM created at t; flavour cores, GB taken as GiB"
            .into(),
        format!(
            "U<bin> lifetimes: bin lo..hi covers [lo, hi+300s), point `{point}`; C<bin> = still alive"
        ),
    ];
    if lifetimes_path.is_none() {
        rules.push("no lifetimes file beside the arrivals: every VM is censored".into());
    }
    let origin = match first_t {
        Some(t) => format!("t = {t} s of the Azure V1 trace (the file's first bin)"),
        None => "the file's first bin".into(),
    };
    Ok(out.finish(
        Origin::EarliestStart,
        origin,
        rules,
        None,
        rows.read,
        rows.skipped,
    ))
}

struct Tables<'a> {
    flavours: &'a BTreeMap<String, Resources>,
    /// Per bin: [lower, upper) in seconds.
    bins: &'a [(u64, u64)],
    point: LifetimeInBin,
}

/// One arrivals line and its lifetimes line: the time and, per VM, its size
/// and lifetime in ns (`None`: censored).
type Line = (u64, Vec<(Resources, Option<u64>)>);

/// `lifetimes`: the line and where it is (`file:line`), which an error in
/// it names.
fn parse_line(
    arrivals: &str,
    lifetimes: Option<(&str, &str)>,
    tables: &Tables,
) -> Result<Line, String> {
    let (t, tokens) = split_line(arrivals)?;
    let lives = match lifetimes {
        Some((l, at)) => {
            let (lt, lives) = split_line(l).map_err(|e| format!("lifetimes line {at}: {e}"))?;
            if lt != t || lives.len() != tokens.len() {
                return Err(format!(
                    "the lifetimes line {at} does not match this one (time {lt}, {} tokens; here {t}, {} tokens)",
                    lives.len(),
                    tokens.len()
                ));
            }
            Some((lives, at))
        }
        None => None,
    };
    let mut vms = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        if *token == "|" {
            continue;
        }
        let size = *tables
            .flavours
            .get(*token)
            .ok_or_else(|| format!("unknown flavour `{token}` (not in flav_map.txt)"))?;
        let life = match &lives {
            Some((lives, at)) => {
                lifetime(lives[i], tables).map_err(|e| format!("lifetimes line {at}: {e}"))?
            }
            None => None,
        };
        vms.push((size, life));
    }
    Ok((t, vms))
}

fn split_line(line: &str) -> Result<(u64, Vec<&str>), String> {
    let (t, rest) = time_and_rest(line);
    let t = parse_u64(t, "bin time")?;
    let tokens = rest.trim().split(',').filter(|s| !s.is_empty()).collect();
    Ok((t, tokens))
}

/// `U<bin>` → the chosen point of the bin in ns; `C<bin>` → censored.
fn lifetime(token: &str, tables: &Tables) -> Result<Option<u64>, String> {
    let cut = token.chars().next().map_or(0, char::len_utf8);
    let (kind, bin) = token.split_at(cut);
    let bin = parse_u64(bin, "lifetime bin")? as usize;
    let &(lower, upper) = tables
        .bins
        .get(bin)
        .ok_or_else(|| format!("lifetime bin {bin} is not in v1.interval_map.txt"))?;
    match kind {
        "U" => Ok(Some(secs(tables.point.pick(lower, upper)))),
        "C" => Ok(None),
        _ => Err(format!(
            "lifetime token `{token}`: expected U<bin> or C<bin>"
        )),
    }
}

fn time_and_rest(line: &str) -> (&str, &str) {
    let line = line.trim();
    line.split_once(char::is_whitespace).unwrap_or((line, ""))
}

/// A line's time, which must follow the last good line's.
fn line_time(line: &str, last: Option<u64>) -> Result<u64, String> {
    let t = parse_u64(time_and_rest(line).0, "bin time")?;
    match last {
        Some(last) if t <= last => Err(format!(
            "time {t} does not follow {last} (lines must be in increasing time)"
        )),
        _ => Ok(t),
    }
}

/// The lifetimes file, read beside the arrivals and matched to them by time.
struct Lifetimes {
    rows: Rows,
    skip_bad: bool,
    /// The next good line, read ahead: its time and text.
    /// Also where it is (`file:line`), for errors in it.
    ahead: Option<(u64, String, String)>,
    last_t: Option<u64>,
}

impl Lifetimes {
    fn open(path: &Path, skip_bad: bool) -> Result<Self, ImportError> {
        Ok(Lifetimes {
            rows: Rows::open(path, Skip::Nothing, None, skip_bad)?,
            skip_bad,
            ahead: None,
            last_t: None,
        })
    }

    /// The line of time `t`, if the file has one. Lines before it belong to
    /// arrivals lines that are bad or missing: passed over when bad rows are
    /// skipped (the arrivals lines count what is lost), else an error.
    /// With the line, where it is (`file:line`).
    fn line_at(&mut self, t: u64) -> Result<Option<(String, String)>, ImportError> {
        loop {
            match self.peek()? {
                Some(lt) if lt < t && self.skip_bad => self.ahead = None,
                Some(lt) if lt < t => {
                    let message = format!("time {lt} has no line in the arrivals file");
                    return Err(self.rows.error(message));
                }
                Some(lt) if lt == t => {
                    return Ok(self.ahead.take().map(|(_, line, at)| (line, at)));
                }
                _ => return Ok(None),
            }
        }
    }

    /// The time of the next good line (one whose time reads and increases),
    /// reading it ahead; None at the end.
    fn peek(&mut self) -> Result<Option<u64>, ImportError> {
        while self.ahead.is_none() && self.rows.advance()? {
            let parsed = line_time(self.rows.line(), self.last_t);
            if let Some(t) = self.rows.check(parsed)? {
                self.last_t = Some(t);
                let at = format!("{}:{}", self.rows.file(), self.rows.line_no());
                self.ahead = Some((t, self.rows.line().to_string(), at));
            }
        }
        Ok(self.ahead.as_ref().map(|(t, ..)| *t))
    }
}

/// The arrivals file, or an error naming it (not its companion files).
fn open_arrivals(path: &Path, opts: &ImportOptions) -> Result<Rows, ImportError> {
    match Rows::open(path, Skip::Nothing, opts.limit, opts.skip_bad_rows) {
        Err(ImportError::Unreadable { file, reason }) if reason.kind() == ErrorKind::NotFound => {
            Err(ImportError::bad_file(
                &file,
                "no such arrivals file (azure-bins reads PATH = v1.<split>.txt, with \
                 flav_map.txt and v1.interval_map.txt beside it)",
            ))
        }
        other => other,
    }
}

fn read_flavours(
    path: &Path,
    opts: &ImportOptions,
) -> Result<BTreeMap<String, Resources>, ImportError> {
    let mut rows = Rows::open(path, Skip::Nothing, None, opts.skip_bad_rows)?;
    let mut map = BTreeMap::new();
    while rows.advance()? {
        let parsed = parse_flavour(rows.line());
        if let Some((letter, size)) = rows.check(parsed)? {
            map.insert(letter, size);
        }
    }
    Ok(map)
}

fn parse_flavour(line: &str) -> Result<(String, Resources), String> {
    let (shape, letter) = line
        .split_once(' ')
        .ok_or("expected `<cores>,<memory GB> <letter>`")?;
    let (cores, gb) = shape
        .split_once(',')
        .ok_or("expected `<cores>,<memory GB> <letter>`")?;
    let cores = parse_u64(cores, "cores")?;
    let memory = scaled(parse_f64(gb, "memory GB")?, GIB, "memory")?;
    Ok((
        letter.trim().to_string(),
        Resources::new(cores.saturating_mul(1000), memory, 0),
    ))
}

/// Per bin index, `[lowest listed lifetime, highest + 300 s)`.
fn read_bins(path: &Path, opts: &ImportOptions) -> Result<Vec<(u64, u64)>, ImportError> {
    let mut rows = Rows::open(path, Skip::Nothing, None, opts.skip_bad_rows)?;
    let mut bins: Vec<(u64, u64)> = Vec::new();
    while rows.advance()? {
        let parsed = parse_bin_entry(rows.line());
        let Some((life, bin)) = rows.check(parsed)? else {
            continue;
        };
        if bin > bins.len() {
            return Err(rows.error(format!("bin {bin} follows bin {}", bins.len())));
        }
        if bin == bins.len() {
            bins.push((life, life.saturating_add(STEP_S)));
        }
        let entry = &mut bins[bin];
        entry.0 = entry.0.min(life);
        entry.1 = entry.1.max(life.saturating_add(STEP_S));
    }
    if bins.is_empty() {
        return Err(ImportError::bad_file(rows.file(), "no lifetime bins"));
    }
    Ok(bins)
}

fn parse_bin_entry(line: &str) -> Result<(u64, usize), String> {
    let (life, bin) = line
        .split_once(' ')
        .ok_or("expected `<lifetime s> <bin>`")?;
    Ok((
        parse_u64(life, "lifetime")?,
        parse_u64(bin.trim(), "bin")? as usize,
    ))
}

/// `v1.dev.txt` → `v1.dev.c<digits>.txt` in the same folder, if any
/// (either of them may be gzipped: `.txt.gz`).
fn find_lifetimes(arrivals: &Path) -> Result<Option<PathBuf>, ImportError> {
    let file = arrivals.display().to_string();
    let name = arrivals
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| ImportError::bad_file(&file, "not a file name"))?;
    let stem = (name.strip_suffix(".txt.gz"))
        .or_else(|| name.strip_suffix(".txt"))
        .unwrap_or(name);
    let prefix = format!("{stem}.c");
    let dir = arrivals.parent().unwrap_or(Path::new("."));
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let entries = std::fs::read_dir(dir).map_err(|reason| ImportError::Unreadable {
        file: dir.display().to_string(),
        reason,
    })?;
    // Sorted, so the choice never depends on directory order.
    let mut found: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .filter(|e| {
            let n = e.file_name();
            let n = n.to_string_lossy();
            n.strip_prefix(&prefix)
                .and_then(|r| r.strip_suffix(".txt.gz").or_else(|| r.strip_suffix(".txt")))
                .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
        })
        .map(|e| e.path())
        .collect();
    found.sort();
    Ok(found.into_iter().next())
}
