//! `pacsim export LOG_OR_TRACE -o FILE [--format pstrace|jsonl]`: a sled log
//! (or a trace) written out as a trace file or as JSON Lines. The file
//! appears only once written whole: a failed export leaves none (and a file
//! of that name as it was).

use super::Failure;
use super::trace_cmd::failure;
use pacsim::event::RecordRef;
use pacsim::sim::RecordSink;
use pacsim::trace::atomic::AtomicFile;
use pacsim::trace::source::{RecordSource, actor_names};
use pacsim::trace::{ReplayError, TraceError, TraceHeader, TraceWriter, jsonl};
use std::io::Write;
use std::ops::ControlFlow;
use std::path::PathBuf;

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
    let info = source.info().map_err(failure)?;
    let write_err = |source| {
        failure(ReplayError::Trace(TraceError::Write {
            path: args.output.clone(),
            source,
        }))
    };
    let (note, count) = match args.format {
        Format::Pstrace => {
            let header = TraceHeader {
                pacsim_version: info.pacsim_version.clone(),
                ..TraceHeader::new(&info.scenario, info.seed)
            };
            let mut writer =
                TraceWriter::create(&args.output, &header).map_err(|e| failure(e.into()))?;
            let note = source
                .for_each(args.salvage, |r| {
                    writer.record(&RecordRef {
                        seq: r.seq,
                        at: r.at,
                        from: r.from,
                        to: r.to,
                        cause: r.cause,
                        event: &r.event,
                    });
                    ControlFlow::Continue(())
                })
                .map_err(failure)?;
            let count = writer.count();
            let digest = writer.commit().map_err(|e| failure(e.into()))?;
            println!("digest   {digest}");
            (note, count)
        }
        Format::Jsonl => {
            let names = actor_names(&info);
            let mut out = AtomicFile::create(&args.output).map_err(write_err)?;
            let mut error = None;
            let mut count = 0u64;
            writeln!(out, "{}", jsonl::header_line(&info)).map_err(write_err)?;
            let note = source
                .for_each(args.salvage, |r| {
                    count += 1;
                    match writeln!(out, "{}", jsonl::record_line(&r, names.as_deref())) {
                        Ok(()) => ControlFlow::Continue(()),
                        Err(e) => {
                            error = Some(e);
                            ControlFlow::Break(())
                        }
                    }
                })
                .map_err(failure)?;
            if let Some(e) = error {
                return Err(write_err(e));
            }
            out.commit().map_err(write_err)?;
            (note, count)
        }
    };
    println!("records  {count}");
    println!("written  {}", args.output.display());
    if let Some(n) = note {
        println!("{n}");
    }
    Ok(0)
}
