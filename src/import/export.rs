//! An imported workload written out as a complete scenario file, which
//! `scenario::load_scenario` reads back: a header comment with the source
//! and the rules, a datacenter (the trace's host mix, or one host model
//! repeated enough times for the peak demand), and one `workloads.vms`
//! entry per object. Quantities are written exactly (millicores, bytes,
//! nanoseconds when they are not whole units), so re-reading loses nothing.
//! The importers keep every VM and host model within a scenario's limits
//! (`limits.rs`); here the host count is checked, the one number made here.

use super::limits::{HOUR_NS, HostTotals};
use super::{Demand, ImportError, ImportedWorkload, peak_demand};
use crate::model::Resources;
use crate::model::resources::GIB;
use crate::model::time::NANOS_PER_SEC;
use crate::scenario::HostModel;
use std::fmt::Write;

/// Host model used when the trace lists no machines.
pub const DEFAULT_HOST: Resources = Resources {
    cpu_millis: 64_000,
    memory_bytes: 512 * GIB,
    gpu_millis: 0,
};
/// GPUs of the default host model when the trace requests GPUs.
pub const DEFAULT_HOST_GPU_MILLIS: u64 = 8_000;

pub struct ExportOptions {
    /// The command line that made the file, for the header.
    pub command: String,
    /// `name:` of the scenario.
    pub name: String,
    /// Size every host like this instead of using the trace's host mix or the
    /// default host model.
    pub host_model: Option<Resources>,
}

/// The datacenter's host groups and a comment saying where they came from;
/// an error when the peak demand needs more hosts than a scenario may have.
pub fn datacenter(
    w: &ImportedWorkload,
    host_model: Option<Resources>,
) -> Result<(Vec<(HostModel, u32)>, String), ImportError> {
    if let (Some(mix), None) = (&w.host_mix, host_model) {
        let hosts: u64 = mix.iter().map(|(_, n)| u64::from(*n)).sum();
        return Ok((
            mix.clone(),
            format!("hosts: the trace's own machine list ({hosts} machines)"),
        ));
    }
    let peak = peak_demand(&w.vms);
    let largest = w
        .vms
        .iter()
        .fold(Resources::ZERO, |m, v| max_each(m, v.size));
    let base = host_model.unwrap_or(Resources {
        gpu_millis: if peak.gpu_millis > 0 {
            DEFAULT_HOST_GPU_MILLIS
        } else {
            0
        },
        ..DEFAULT_HOST
    });
    // Every VM must fit on one host, or it could never be placed.
    let host = max_each(base, largest);
    let count = host_count(&peak, &host).map_err(|e| ImportError::bad_file(&w.source, e))?;
    let why = format!(
        "hosts: {} x ({}), the fewest that hold the peak demand ({}) if packing were perfect{}{}",
        count,
        host,
        peak,
        if host_model.is_some() {
            "; host model from --host-model"
        } else {
            "; default host model"
        },
        if host != base {
            ", enlarged to fit the largest VM"
        } else {
            ""
        },
    );
    let model = HostModel {
        name: "imported".into(),
        capacity: host,
        gpu_model: None,
    };
    Ok((vec![(model, count)], why))
}

/// The fewest hosts of `host` that hold `peak` if packing were perfect (at
/// least one); an error past the hosts (or their memory) a scenario may have.
fn host_count(peak: &Demand, host: &Resources) -> Result<u32, String> {
    let count = [
        ceil_div(peak.cpu_millis, host.cpu_millis.into()),
        ceil_div(peak.memory_bytes, host.memory_bytes.into()),
        ceil_div(peak.gpu_millis, host.gpu_millis.into()),
    ]
    .into_iter()
    .max()
    .unwrap_or(1)
    .max(1);
    let hosts = u64::try_from(count).unwrap_or(u64::MAX);
    match HostTotals::default().add(host, hosts) {
        Ok(()) => Ok(u32::try_from(hosts).expect("at most MAX_HOSTS")),
        Err(e) => Err(format!(
            "the peak demand ({peak}) needs {count} hosts of ({host}), but {e}; give \
             larger hosts (--host-model) or read fewer rows (--limit)"
        )),
    }
}

/// The scenario text.
pub fn scenario_yaml(w: &ImportedWorkload, opts: &ExportOptions) -> Result<String, ImportError> {
    let (mix, hosts_note) = datacenter(w, opts.host_model)?;
    let mut y = String::new();
    let mut line = |s: &str| {
        y.push_str(s);
        y.push('\n');
    };
    line(&format!("# Imported from a real trace: {}", opts.command));
    line(&format!("# format {}, source {}", w.format, w.source));
    line("# Rules: a VM occupies [at, delete_at); at equal times deletions apply before");
    line("# creations, then file order; a VM without delete_at (censored) stays alive.");
    line(&format!("# Time 0 = {}.", w.origin));
    for rule in &w.rules {
        line(&format!("# - {rule}"));
    }
    line(&format!("# {hosts_note}"));
    line(&format!(
        "# rows read {}, bad rows skipped {}, VMs {} (censored {}), dropped: no duration {}, zero size {}",
        w.rows_read,
        w.rows_skipped,
        w.vms.len(),
        w.censored,
        w.dropped_empty,
        w.dropped_zero_size
    ));
    line(&format!("name: {}", yaml_str(&opts.name)));
    line("seed: 42");
    let hours = (w.last_event().0 / HOUR_NS + 1).max(1);
    line(&format!("duration: {hours}h"));
    line("datacenter:");
    line("  host_models:");
    for (m, _) in &mix {
        line(&format!(
            "    - {{name: {}, {}{}}}",
            yaml_str(&m.name),
            size_fields(&m.capacity),
            m.gpu_model
                .as_ref()
                .map_or(String::new(), |g| format!(", gpu_model: {}", yaml_str(g)))
        ));
    }
    line("  clusters:");
    line("    - name: imported");
    line("      hosts:");
    for (m, count) in &mix {
        line(&format!(
            "        - {{model: {}, count: {count}}}",
            yaml_str(&m.name)
        ));
    }
    line("placement:");
    line("  policy: drs");
    if w.vms.is_empty() {
        return Ok(y);
    }
    line("workloads:");
    line("  vms:");
    for vm in &w.vms {
        let mut entry = format!(
            "    - {{name: {}, {}, at: {}",
            yaml_str(&vm.name),
            size_fields(&vm.size),
            duration(vm.at.0)
        );
        if let Some(d) = vm.delete_at {
            let _ = write!(entry, ", delete_at: {}", duration(d.0));
        }
        entry.push('}');
        line(&entry);
    }
    Ok(y)
}

fn size_fields(r: &Resources) -> String {
    let mut s = format!(
        "cpu: {}, memory: {}",
        cpu(r.cpu_millis),
        memory(r.memory_bytes)
    );
    if r.gpu_millis > 0 {
        let _ = write!(s, ", gpus: {}", milli_decimal(r.gpu_millis));
    }
    s
}

fn cpu(millis: u64) -> String {
    if millis.is_multiple_of(1000) {
        (millis / 1000).to_string()
    } else {
        format!("{millis}m")
    }
}

fn memory(bytes: u64) -> String {
    for (unit, name) in [(GIB, "Gi"), (1 << 20, "Mi"), (1 << 10, "Ki")] {
        if bytes.is_multiple_of(unit) {
            return format!("{}{name}", bytes / unit);
        }
    }
    bytes.to_string()
}

/// 460 → `0.46`, 2000 → `2`.
fn milli_decimal(m: u64) -> String {
    if m.is_multiple_of(1000) {
        return (m / 1000).to_string();
    }
    let frac = format!("{:03}", m % 1000);
    format!("{}.{}", m / 1000, frac.trim_end_matches('0'))
}

fn duration(ns: u64) -> String {
    match ns {
        0 => "0".into(),
        n if n.is_multiple_of(NANOS_PER_SEC) => format!("{}s", n / NANOS_PER_SEC),
        n if n.is_multiple_of(1_000_000) => format!("{}ms", n / 1_000_000),
        n => format!("{n}ns"),
    }
}

/// Plain when it cannot be misread inside a flow mapping, else
/// double-quoted with YAML escapes (control characters too: YAML text may
/// not hold them raw, and trace names are whatever the trace says).
fn yaml_str(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if plain {
        return s.to_string();
    }
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '\\' | '"' => out.extend(['\\', c]),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn max_each(a: Resources, b: Resources) -> Resources {
    Resources::new(
        a.cpu_millis.max(b.cpu_millis),
        a.memory_bytes.max(b.memory_bytes),
        a.gpu_millis.max(b.gpu_millis),
    )
}

fn ceil_div(a: u128, b: u128) -> u128 {
    if b == 0 { 0 } else { a.div_ceil(b) }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Before, a count past u32 was cut to u32::MAX and written, and any
    /// count past MAX_HOSTS made a scenario the loader refuses.
    #[test]
    fn a_peak_needing_more_hosts_than_a_scenario_may_have_is_an_error() {
        let host = Resources::cores(64, 512);
        let peak = |cores: u128| Demand {
            cpu_millis: cores * 1000,
            ..Demand::default()
        };
        assert_eq!(host_count(&peak(64 * 1_000_000), &host), Ok(1_000_000));
        let e = host_count(&peak(64 * 1_000_000 + 1), &host).unwrap_err();
        assert!(e.contains("needs 1000001 hosts"), "{e}");
        assert!(host_count(&peak(u128::from(u64::MAX) * 7), &host).is_err());
        assert_eq!(host_count(&Demand::default(), &host), Ok(1));
    }

    /// Names are whatever a trace says; control characters are escaped.
    #[test]
    fn any_name_is_written_so_that_it_reads_back() {
        let names = [
            "plain-1.x",
            "with space",
            "q\"uote\\",
            "tab\tbell\u{7}del\u{7f}",
            "é",
        ];
        let mut text = String::from(
            "seed: 1\nduration: 1h\ndatacenter:\n  host_models: [{name: m, cpu: 8, memory: 8Gi}]\n  \
             clusters: [{name: c, hosts: [{model: m, count: 1}]}]\nworkloads:\n  vms:\n",
        );
        for name in names {
            let _ = writeln!(
                text,
                "    - {{name: {}, cpu: 1, memory: 1Gi, at: 0}}",
                yaml_str(name)
            );
        }
        let scenario = crate::scenario::parse_scenario(&text, "names").unwrap();
        let read: Vec<&str> = scenario
            .workloads
            .vms
            .iter()
            .map(|v| v.name.as_str())
            .collect();
        assert_eq!(read, names);
    }
}
