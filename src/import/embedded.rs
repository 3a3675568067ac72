//! `pacsim run --workload-trace FORMAT:PATH` replaces a scenario's
//! workloads with a real trace's VMs. The scenario text that the event log
//! and a trace file embed records that as a comment line naming the trace
//! and the blake3 of the VMs read from it, so that whoever reads the run
//! back (`inspect`, `export`, `replay --verify`) rebuilds the same world
//! from the same trace, and is told plainly when it is missing or now
//! gives other VMs (any of its files changed, a sibling map included).

use super::{ImportOptions, ImportedWorkload, TraceFormat, import};
use crate::scenario::{ExplicitVm, Scenario, Workloads};
use std::path::PathBuf;

const EMBEDDED: &str = "# pacsim run --workload-trace ";
const CLUSTER: &str = " --workload-cluster ";
const DIGEST: &str = " blake3=";

/// An embedded line read back: the trace and the digest of its VMs, or
/// what is wrong with the line.
pub type Embedded = Result<(WorkloadTrace, String), String>;

/// A trace a run's workloads came from, as `--workload-trace` names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkloadTrace {
    pub format: TraceFormat,
    pub path: PathBuf,
    /// The cluster its VMs are deployed into (`--workload-cluster`); `None`:
    /// the datacenter's only cluster.
    pub cluster: Option<String>,
}

impl WorkloadTrace {
    /// `FORMAT:PATH`.
    pub fn parse(spec: &str) -> Result<WorkloadTrace, String> {
        let (format, path) = spec
            .split_once(':')
            .ok_or_else(|| format!("--workload-trace expects FORMAT:PATH, found `{spec}`"))?;
        let format = TraceFormat::parse(format)?;
        Ok(WorkloadTrace {
            format,
            path: PathBuf::from(path),
            cluster: None,
        })
    }

    /// Deploys the trace's VMs into `cluster`.
    pub fn in_cluster(self, cluster: Option<String>) -> WorkloadTrace {
        WorkloadTrace { cluster, ..self }
    }

    pub fn spec(&self) -> String {
        format!("{}:{}", self.format, self.path.display())
    }

    /// The trace's VMs, read with the default import options.
    pub fn import(&self) -> Result<ImportedWorkload, super::ImportError> {
        import(self.format, &self.path, &ImportOptions::default())
    }

    /// Puts `workload` (read from this trace) in place of the scenario's
    /// workloads, and records it in `scenario.source`, the text a log or
    /// trace embeds.
    /// Fails when the cluster is unknown, or not named in a datacenter
    /// of several clusters.
    pub fn apply_and_embed(
        &self,
        scenario: &mut Scenario,
        workload: ImportedWorkload,
    ) -> Result<(), String> {
        let digest = digest(&workload.vms);
        self.replace_workloads(scenario, workload)?;
        if !scenario.source.ends_with('\n') {
            scenario.source.push('\n');
        }
        let cluster = (self.cluster.as_ref()).map_or(String::new(), |c| format!("{CLUSTER}{c}"));
        let line = format!("{EMBEDDED}{}{cluster}{DIGEST}{digest}\n", self.spec());
        scenario.source.push_str(&line);
        Ok(())
    }

    /// The trace recorded in an embedded scenario text, with its digest and
    /// 1-based line: `None` when the run kept its own workloads.
    pub fn embedded(source: &str) -> Option<(usize, Embedded)> {
        let (i, line) = (source.lines().enumerate())
            .filter(|(_, l)| l.starts_with(EMBEDDED))
            .last()?;
        let rest = &line[EMBEDDED.len()..];
        let parsed = match rest.rsplit_once(DIGEST) {
            Some((spec, digest)) => {
                let (spec, cluster) = match spec.rsplit_once(CLUSTER) {
                    Some((spec, c)) => (spec, Some(c.to_string())),
                    None => (spec, None),
                };
                WorkloadTrace::parse(spec).map(|t| (t.in_cluster(cluster), digest.to_string()))
            }
            None => Err(format!("`{rest}` names no blake3 digest")),
        };
        Some((i + 1, parsed))
    }

    /// Replaces the workloads of a re-read scenario with this trace's VMs
    /// again, once they are checked to be the ones the run read.
    pub fn reapply(&self, scenario: &mut Scenario, digest_then: &str) -> Result<(), String> {
        let what = format!(
            "the run replaced its workloads with --workload-trace {}",
            self.spec()
        );
        let workload =
            (self.import()).map_err(|e| format!("{what}, which cannot be read here: {e}"))?;
        let now = digest(&workload.vms);
        if now != digest_then {
            return Err(format!(
                "{what} (VMs blake3 {}…), which gives other VMs now (blake3 {}…)",
                &digest_then[..digest_then.len().min(16)],
                &now[..16]
            ));
        }
        self.replace_workloads(scenario, workload)
    }

    /// The scenario keeps its datacenter, placement and faults; its
    /// workloads become the trace's VMs, in the trace's cluster.
    fn replace_workloads(
        &self,
        scenario: &mut Scenario,
        mut workload: ImportedWorkload,
    ) -> Result<(), String> {
        let cluster = self.cluster_index(scenario)?;
        for vm in &mut workload.vms {
            vm.cluster = cluster;
        }
        scenario.workloads = Workloads {
            vms: workload.vms,
            generators: Vec::new(),
            manifests: Default::default(),
        };
        Ok(())
    }

    fn cluster_index(&self, scenario: &Scenario) -> Result<usize, String> {
        let clusters = &scenario.datacenter.clusters;
        let names = || {
            let v: Vec<&str> = clusters.iter().map(|c| c.name.as_str()).collect();
            v.join(", ")
        };
        match &self.cluster {
            Some(name) => (clusters.iter().position(|c| &c.name == name)).ok_or_else(|| {
                format!(
                    "unknown cluster `{name}` for the trace's VMs; clusters: {}",
                    names()
                )
            }),
            None if clusters.len() == 1 => Ok(0),
            None => Err(format!(
                "the datacenter has {} clusters ({}): say which one the trace's VMs go to with --workload-cluster",
                clusters.len(),
                names()
            )),
        }
    }
}

/// The blake3 of the VMs, field by field in a fixed layout (names, sizes,
/// times in ns, restart priority).
fn digest(vms: &[ExplicitVm]) -> String {
    let mut h = blake3::Hasher::new();
    for vm in vms {
        h.update(&(vm.name.len() as u64).to_le_bytes());
        h.update(vm.name.as_bytes());
        h.update(&vm.size.cpu_millis.to_le_bytes());
        h.update(&vm.size.memory_bytes.to_le_bytes());
        h.update(&vm.size.gpu_millis.to_le_bytes());
        h.update(&vm.at.0.to_le_bytes());
        h.update(&vm.delete_at.map_or(u64::MAX, |t| t.0).to_le_bytes());
        h.update(&[vm.restart_priority.map_or(u8::MAX, |p| p as u8)]);
    }
    h.finalize().to_hex().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spec_and_its_embedded_line_read_back_with_clear_errors() {
        let trace = WorkloadTrace::parse("azure-bins:traces/a b.txt").unwrap();
        assert_eq!(trace.path, PathBuf::from("traces/a b.txt"));
        assert_eq!(
            WorkloadTrace::parse("azure:x").unwrap_err(),
            "unknown trace format `azure`; expected one of: azure-vmtable, azure-bins, \
             alibaba-gpu2023, alibaba-dlrm2025, swf, bitbrains, google2019-machines"
        );
        assert!(
            WorkloadTrace::parse("x.txt")
                .unwrap_err()
                .contains("FORMAT:PATH")
        );
        let text = format!("seed: 1\n{EMBEDDED}azure-bins:traces/a b.txt{DIGEST}abc\n");
        let (line, found) = WorkloadTrace::embedded(&text).unwrap();
        assert_eq!((line, found), (2, Ok((trace, "abc".to_string()))));
        let (_, bad) = WorkloadTrace::embedded(&format!("{EMBEDDED}swf:x\n")).unwrap();
        assert_eq!(bad.unwrap_err(), "`swf:x` names no blake3 digest");
        assert!(WorkloadTrace::embedded("seed: 1\n").is_none());
    }
}
