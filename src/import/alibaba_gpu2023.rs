//! `alibaba-gpu2023`: Alibaba cluster-trace-gpu-v2023 ("openb"). PATH is the
//! folder, or its pod list `openb_pod_list_default.csv`; the node list
//! `openb_node_list_all_node.csv` beside it becomes the host mix (nodes
//! grouped by identical cpu, memory, GPU count and GPU model).
//!
//! Pods become VMs: cpu_milli millicores, memory_mib MiB, num_gpu x
//! gpu_milli milli-GPUs (gpu_milli is the share of one GPU, 1000 for
//! multi-GPU pods). A pod occupies [creation_time, deletion_time); for
//! `Running` pods deletion_time is only the end of observation, so they are
//! censored. Pending pods (never scheduled) are still requests and are kept.
//! Time 0 is the trace origin (its own clock). The row limit applies to pods;
//! the node list is always read whole.

use super::collect::{Collector, Origin, secs};
use super::error::ImportError;
use super::limits::{self, HostTotals};
use super::rows::{Rows, Skip, fields, parse_u64};
use super::{ImportOptions, ImportedWorkload, TraceFormat};
use crate::model::Resources;
use crate::scenario::HostModel;
use std::collections::BTreeMap;
use std::path::Path;

const PODS: &str = "openb_pod_list_default.csv";
const NODES: &str = "openb_node_list_all_node.csv";
const MIB: u64 = 1 << 20;

pub(crate) fn import(path: &Path, opts: &ImportOptions) -> Result<ImportedWorkload, ImportError> {
    let (pods, dir) = if path.is_dir() {
        (path.join(PODS), path.to_path_buf())
    } else {
        let dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        (path.to_path_buf(), dir)
    };
    let nodes = dir.join(NODES);
    let (host_mix, node_rows) = if nodes.is_file() {
        let (mix, rows) = read_nodes(&nodes, opts)?;
        (Some(mix), rows)
    } else {
        super::warnings::warn(format!(
            "no {NODES} beside the pods: the datacenter is one host model (the default, or --host-model), not the trace's nodes"
        ));
        (None, (0, 0))
    };

    let mut rows = Rows::open(&pods, Skip::Header("name,"), opts.limit, opts.skip_bad_rows)?;
    let mut out = Collector::new(TraceFormat::AlibabaGpu2023, rows.file());
    while rows.advance()? {
        let parsed = parse_pod(rows.line());
        let Some((name, size, start, end)) = rows.check(parsed)? else {
            continue;
        };
        let pushed = out.push(name, size, secs(start), end.map(secs));
        rows.check(pushed)?;
    }
    let rules = vec![
        "pods: cpu_milli, memory_mib MiB, num_gpu x gpu_milli milli-GPUs".into(),
        "a pod occupies [creation_time, deletion_time); Running pods are censored (deletion_time = end of observation)".into(),
        "hosts: nodes of the node list grouped by cpu, memory, GPUs and GPU model".into(),
    ];
    Ok(out.finish(
        Origin::TraceClock,
        "the trace origin (creation_time 0)".into(),
        rules,
        host_mix,
        rows.read + node_rows.0,
        rows.skipped + node_rows.1,
    ))
}

type HostMix = Vec<(HostModel, u32)>;

type Pod = (String, Resources, u64, Option<u64>);

fn parse_pod(line: &str) -> Result<Pod, String> {
    let f = fields(line, ',', 11)?;
    let num_gpu = parse_u64(f[3], "num_gpu")?;
    let gpu_milli = parse_u64(f[4], "gpu_milli")?;
    let gpu = u32::try_from(num_gpu.saturating_mul(gpu_milli))
        .map_err(|_| "too many GPUs".to_string())?;
    let size = Resources::new(
        parse_u64(f[1], "cpu_milli")?,
        parse_u64(f[2], "memory_mib")?.saturating_mul(MIB),
        gpu.into(),
    );
    let created = parse_u64(f[8], "creation_time")?;
    let deleted = parse_u64(f[9], "deletion_time")?;
    let end = (f[7] != "Running").then_some(deleted);
    Ok((f[0].to_string(), size, created, end))
}

/// The host mix, and (rows read, rows skipped) of the node list.
fn read_nodes(path: &Path, opts: &ImportOptions) -> Result<(HostMix, (u64, u64)), ImportError> {
    let mut rows = Rows::open(path, Skip::Header("sn,"), None, opts.skip_bad_rows)?;
    // Key → index in `mix`, so that models keep the order of first appearance.
    let mut index: BTreeMap<(Resources, String), usize> = BTreeMap::new();
    let mut mix: Vec<(HostModel, u32)> = Vec::new();
    let mut totals = HostTotals::default();
    while rows.advance()? {
        let parsed = parse_node(rows.line()).and_then(|node| totals.add(&node.0, 1).map(|()| node));
        let Some((capacity, gpu_model)) = rows.check(parsed)? else {
            continue;
        };
        let key = (capacity, gpu_model.clone());
        let i = *index.entry(key).or_insert_with(|| {
            let name = model_name(&capacity, &gpu_model);
            let gpu_model = (!gpu_model.is_empty()).then_some(gpu_model);
            mix.push((
                HostModel {
                    name,
                    capacity,
                    gpu_model,
                },
                0,
            ));
            mix.len() - 1
        });
        mix[i].1 += 1;
    }
    if mix.is_empty() {
        return Err(ImportError::bad_file(rows.file(), "no nodes"));
    }
    Ok((mix, (rows.read, rows.skipped)))
}

fn parse_node(line: &str) -> Result<(Resources, String), String> {
    let f = fields(line, ',', 5)?;
    let gpus = parse_u64(f[3], "gpu")?;
    let gpu_millis =
        u32::try_from(gpus.saturating_mul(1000)).map_err(|_| "too many GPUs".to_string())?;
    let capacity = Resources::new(
        parse_u64(f[1], "cpu_milli")?,
        parse_u64(f[2], "memory_mib")?.saturating_mul(MIB),
        gpu_millis.into(),
    );
    if capacity.cpu_millis == 0 || capacity.memory_bytes == 0 {
        return Err("a node needs cpu and memory".into());
    }
    limits::check_size("node", &capacity)?;
    Ok((capacity, f[4].to_string()))
}

/// e.g. `c96-m768g-8xV100M32`: unique per key, readable in the scenario.
fn model_name(c: &Resources, gpu_model: &str) -> String {
    let cpu = if c.cpu_millis.is_multiple_of(1000) {
        format!("c{}", c.cpu_millis / 1000)
    } else {
        format!("c{}m", c.cpu_millis)
    };
    let mib = c.memory_bytes / MIB;
    let mem = if mib.is_multiple_of(1024) {
        format!("m{}g", mib / 1024)
    } else {
        format!("m{mib}mi")
    };
    let gpus = c.gpu_millis / 1000;
    match (gpus, gpu_model) {
        (0, "") => format!("{cpu}-{mem}"),
        (g, "") => format!("{cpu}-{mem}-{g}xgpu"),
        (g, m) => format!("{cpu}-{mem}-{g}x{m}"),
    }
}
