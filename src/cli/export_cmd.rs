//! `pacsim export LOG_OR_TRACE -o FILE [--format pstrace|jsonl]`: a sled log
//! (or a trace) written out as a trace file or as JSON Lines. The file
//! appears only once written whole: a failed export leaves none (and a file
//! of that name as it was).

use super::Failure;
use super::trace_cmd::{Stdout, failure};
use pacsim::sim::RecordSink;
use pacsim::store::Digest;
use pacsim::trace::atomic::AtomicFile;
use pacsim::trace::source::{RecordSource, SourceInfo};
use pacsim::trace::{ReplayError, TraceError, TraceHeader, TraceWriter, jsonl, salvaged};
use std::io::{ErrorKind, Write};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum Format {
    Pstrace,
    Jsonl,
}

#[derive(clap::Args)]
pub struct ExportArgs {
    /// A log folder (from `run --out`) or a trace file.
    input: PathBuf,
    /// The file to write.
    #[arg(short = 'o', long = "output")]
    output: PathBuf,
    #[arg(long, value_enum, default_value = "pstrace")]
    format: Format,
    /// Export what can be read from damaged input and say what was lost.
    #[arg(long)]
    salvage: bool,
}

pub fn run(args: ExportArgs) -> Result<u8, Failure> {
    let source = RecordSource::at(&args.input);
    let info = source.info(args.salvage).map_err(failure)?;
    let exported = match args.format {
        Format::Pstrace => write_pstrace(&source, &info, &args.output, args.salvage),
        Format::Jsonl => write_jsonl(&args, &source, &info),
    };
    let exported = match exported {
        // `-o /dev/stdout | head`: the reader has all it wanted.
        Err(ReplayError::Trace(TraceError::Write { source, .. }))
            if source.kind() == ErrorKind::BrokenPipe =>
        {
            return Ok(0);
        }
        other => other.map_err(failure)?,
    };
    let mut out = Stdout::new();
    if let Some(digest) = exported.digest {
        out.line(format_args!("digest   {digest}"));
    }
    out.line(format_args!("records  {}", exported.count));
    out.line(format_args!("written  {}", args.output.display()));
    if let Some(n) = exported.note {
        out.line(n);
    }
    out.finish()?;
    Ok(0)
}

/// What an export wrote.
pub(super) struct Exported {
    count: u64,
    /// The run digest, for a trace.
    digest: Option<Digest>,
    /// What `--salvage` could not read.
    pub(super) note: Option<String>,
}

/// With `--salvage`, the source is read twice: the header, written first,
/// says where a salvaged copy ends (`trace::salvaged`), and only a first
/// pass knows. The second pass stops there, so a log still being written
/// meanwhile gives the same records.
pub(super) fn write_pstrace(
    source: &RecordSource,
    info: &SourceInfo,
    output: &Path,
    salvage: bool,
) -> Result<Exported, ReplayError> {
    let salvaged = match salvage {
        true => readable(source)?,
        false => None,
    };
    let (scenario, end) = match &salvaged {
        Some((records, _)) => (salvaged::mark(&info.scenario, *records), *records),
        None => (info.scenario.clone(), u64::MAX),
    };
    let header = TraceHeader {
        pacsim_version: info.pacsim_version.clone(),
        ..TraceHeader::new(&scenario, info.seed)
    };
    let mut writer = TraceWriter::create(output, &header)?;
    let note = source.for_each(salvage, |r| {
        if writer.count() == end {
            return ControlFlow::Break(());
        }
        writer.record(&r.borrowed());
        ControlFlow::Continue(())
    })?;
    let count = writer.count();
    let digest = writer.commit()?;
    Ok(Exported {
        count,
        digest: Some(digest),
        note: salvaged.map(|(_, note)| note).or(note),
    })
}

/// How many records a salvaging reader gets from `source`, and what it
/// says was lost; None when nothing was.
fn readable(source: &RecordSource) -> Result<Option<(u64, String)>, ReplayError> {
    let mut records = 0u64;
    let note = source.for_each(true, |_| {
        records += 1;
        ControlFlow::Continue(())
    })?;
    Ok(note.map(|note| (records, note)))
}

fn write_jsonl(
    args: &ExportArgs,
    source: &RecordSource,
    info: &SourceInfo,
) -> Result<Exported, ReplayError> {
    let write_err = |source| {
        ReplayError::Trace(TraceError::Write {
            path: args.output.clone(),
            source,
        })
    };
    let names = super::trace_cmd::names_or_warn(info);
    let mut out = AtomicFile::create(&args.output).map_err(write_err)?;
    writeln!(out, "{}", jsonl::header_line(info)).map_err(write_err)?;
    let mut written = Ok(());
    let mut count = 0u64;
    let note = source.for_each(args.salvage, |r| {
        count += 1;
        written = writeln!(out, "{}", jsonl::record_line(&r, names.as_deref()));
        match written {
            Ok(()) => ControlFlow::Continue(()),
            Err(_) => ControlFlow::Break(()),
        }
    })?;
    written.map_err(write_err)?;
    out.commit().map_err(write_err)?;
    Ok(Exported {
        count,
        digest: None,
        note,
    })
}
