//! `pacsim inspect TRACE|LOGDIR`: filtered records, counts, cause chains.

use super::Failure;
use super::trace_cmd::{Stdout, failure, names_or_warn};
use pacsim::model::VmId;
use pacsim::trace::inspect::{self, Counts, Filter};
use pacsim::trace::source::RecordSource;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct InspectArgs {
    /// A trace file or a log folder (from `run --out`).
    input: PathBuf,
    /// Only records sent by or delivered to this actor (name or id).
    #[arg(long)]
    actor: Option<String>,
    /// Only these event kinds, comma-separated (e.g. VmPowerOn,VmPowerOff).
    #[arg(long)]
    kind: Option<String>,
    /// Only records about this VM: its id (`187`, `vm-187`) or the name of
    /// a VM written out in the scenario (`db-01`).
    #[arg(long)]
    vm: Option<String>,
    /// Only records at or after this time (scenario syntax: 6h, 90m).
    #[arg(long)]
    from: Option<String>,
    /// Only records before this time.
    #[arg(long)]
    to: Option<String>,
    /// Print the chain of causes from an external input down to this record.
    #[arg(long, value_name = "SEQ", conflicts_with = "counts")]
    cause_chain: Option<u64>,
    /// Print counts per event kind and per receiving actor instead of records.
    #[arg(long)]
    counts: bool,
    /// Read what can be read from damaged input and say what was lost.
    #[arg(long)]
    salvage: bool,
}

pub fn run(args: InspectArgs) -> Result<u8, Failure> {
    let source = RecordSource::at(&args.input);
    let info = source.info(args.salvage).map_err(failure)?;
    let names = names_or_warn(&info);
    let names = names.as_deref();
    let mut out = Stdout::new();
    if let Some(seq) = args.cause_chain {
        let chain = inspect::cause_chain(&source, seq, args.salvage).map_err(failure)?;
        for l in inspect::chain_lines(&chain, names) {
            out.line(l);
        }
        out.finish()?;
        return Ok(0);
    }
    let vm = (args.vm.as_deref())
        .map(|spec| inspect::resolve_vm(spec, &source, &info, names, args.salvage))
        .transpose()
        .map_err(Failure::bad_input)?;
    let filter = filter(&args, names, vm).map_err(Failure::bad_input)?;
    let mut counts = Counts::default();
    let note = source
        .for_each(args.salvage, |r| {
            if filter.matches(&r) {
                if args.counts {
                    counts.add(&r);
                } else {
                    out.line(inspect::line(&r, names));
                }
            }
            out.flow()
        })
        .map_err(failure)?;
    if args.counts {
        out.print(counts.table(names));
    }
    out.finish()?;
    if let Some(n) = note {
        eprintln!("{n}");
    }
    Ok(0)
}

fn filter(
    args: &InspectArgs,
    names: Option<&[String]>,
    vm: Option<VmId>,
) -> Result<Filter, String> {
    let time = |t: &Option<String>, flag: &str| {
        t.as_deref()
            .map(inspect::parse_time)
            .transpose()
            .map_err(|e| format!("--{flag}: {e}"))
    };
    let (from, until) = (time(&args.from, "from")?, time(&args.to, "to")?);
    if let (Some(f), Some(u)) = (from, until)
        && u <= f
    {
        return Err(format!(
            "--to {} is not after --from {}: the window holds nothing (`--to` is exclusive)",
            args.to.as_deref().unwrap_or_default(),
            args.from.as_deref().unwrap_or_default()
        ));
    }
    Ok(Filter {
        actor: args
            .actor
            .as_deref()
            .map(|a| inspect::resolve_actor(a, names))
            .transpose()?,
        kinds: args.kind.as_deref().map(inspect::parse_kinds).transpose()?,
        vm,
        from,
        until,
    })
}
