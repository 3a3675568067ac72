//! `bitbrains`: Bitbrains GWA-T-12 raw per-VM CSVs (`;`-separated, header,
//! one ~300-s sample per row). PATH is one file or a folder of
//! `<n>.csv[.gz]` files, read in the numeric order of their names.
//!
//! One file is one VM named `bb-<n>`. It occupies [first sample, last
//! sample) (timestamps are epoch seconds despite the `[ms]` header). Its
//! size is the largest provisioned value seen: `CPU cores` and `Memory
//! capacity provisioned [KB]` (KiB), because provisioning can change inside
//! a file and the VM needs the most it was given. Usage columns are not
//! imported. Time 0 is the earliest first sample of the files read. The row
//! limit counts samples across files, so the last file read may be cut short.

use super::collect::{Collector, Origin, limit_left, secs};
use super::error::ImportError;
use super::rows::{Rows, Skip, fields, parse_f64, parse_u64, scaled};
use super::{ImportOptions, ImportedWorkload, TraceFormat};
use crate::model::Resources;
use std::path::{Path, PathBuf};

pub(crate) fn import(path: &Path, opts: &ImportOptions) -> Result<ImportedWorkload, ImportError> {
    let files = if path.is_dir() {
        list_files(path)?
    } else {
        vec![(vm_number(path).unwrap_or(0), path.to_path_buf())]
    };
    let mut out = Collector::new(TraceFormat::Bitbrains, &path.display().to_string());
    let (mut read, mut skipped) = (0, 0);
    for (_, file) in &files {
        if opts.limit.is_some_and(|l| read >= l) {
            break;
        }
        let mut rows = Rows::open(
            file,
            Skip::Header("Timestamp"),
            limit_left(opts, read),
            opts.skip_bad_rows,
        )?;
        let vm = read_vm(&mut rows)?;
        read += rows.read;
        skipped += rows.skipped;
        let Some((size, first, last)) = vm else {
            continue;
        };
        let name = format!("bb-{}", stem(file));
        let pushed = out.push(name, size, secs(first), Some(secs(last)));
        match pushed {
            Ok(()) => {}
            // The file is the VM: skipping it skips its rows.
            Err(_) if opts.skip_bad_rows => skipped += rows.read - rows.skipped,
            Err(message) => return Err(ImportError::bad_file(rows.file(), message)),
        }
    }
    let rules = vec![
        "one file = one VM occupying [first sample, last sample)".into(),
        "size = the largest provisioned CPU cores and memory (KB taken as KiB) of the file".into(),
    ];
    Ok(out.finish(
        Origin::EarliestStart,
        "the earliest first sample of the files read".into(),
        rules,
        None,
        read,
        skipped,
    ))
}

/// The VM of one file: largest size, first and last timestamp (s); `None`
/// for a file without samples.
fn read_vm(rows: &mut Rows) -> Result<Option<(Resources, u64, u64)>, ImportError> {
    let mut vm: Option<(Resources, u64, u64)> = None;
    while rows.advance()? {
        let parsed = parse_sample(rows.line());
        let Some((ts, cores, mem_kib)) = rows.check(parsed)? else {
            continue;
        };
        let (size, first, last) = vm.get_or_insert((Resources::ZERO, ts, ts));
        size.cpu_millis = size.cpu_millis.max(cores.saturating_mul(1000));
        size.memory_bytes = size.memory_bytes.max(mem_kib);
        *first = (*first).min(ts);
        *last = (*last).max(ts);
    }
    Ok(vm)
}

/// (timestamp s, cores, memory bytes).
fn parse_sample(line: &str) -> Result<(u64, u64, u64), String> {
    let f = fields(line, ';', 11)?;
    let ts = parse_u64(f[0], "timestamp")?;
    let cores = parse_u64(f[1], "CPU cores")?;
    let mem = scaled(parse_f64(f[5], "memory provisioned")?, 1024, "memory")?;
    Ok((ts, cores, mem))
}

/// `*.csv` and `*.csv.gz` files of a folder, by the number in their name
/// (then by name), so `2.csv` comes before `10.csv` on every machine.
fn list_files(dir: &Path) -> Result<Vec<(u64, PathBuf)>, ImportError> {
    let entries = std::fs::read_dir(dir).map_err(|reason| ImportError::Unreadable {
        file: dir.display().to_string(),
        reason,
    })?;
    let mut files: Vec<(u64, PathBuf)> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            let n = p.file_name().map(|n| n.to_string_lossy().into_owned());
            n.is_some_and(|n| n.ends_with(".csv") || n.ends_with(".csv.gz"))
        })
        .map(|p| (vm_number(&p).unwrap_or(u64::MAX), p))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(ImportError::bad_file(
            &dir.display().to_string(),
            "no .csv or .csv.gz files",
        ));
    }
    Ok(files)
}

fn stem(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    name.strip_suffix(".csv").unwrap_or(name).to_string()
}

fn vm_number(path: &Path) -> Option<u64> {
    stem(path).parse().ok()
}
