//! Records from either kind of stored run: a trace file or a sled log folder
//! (a directory). Inspect and export read both the same way.

use super::reader::TraceReader;
use super::{ReplayError, header_scenario};
use crate::event::Record;
use crate::store::LogReader;
use crate::world::World;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

pub enum RecordSource {
    Trace(PathBuf),
    Log(PathBuf),
}

/// What a stored run says about itself.
#[derive(Clone, Debug)]
pub struct SourceInfo {
    pub scenario: String,
    pub seed: u64,
    pub pacsim_version: String,
}

impl RecordSource {
    /// A folder is a sled log (or a served session's folder, whose log is
    /// its `log/`), anything else a trace file.
    pub fn at(path: &Path) -> Self {
        let session_log = path.join("log");
        if path.join("journal").is_file() && session_log.is_dir() {
            RecordSource::Log(session_log)
        } else if path.is_dir() {
            RecordSource::Log(path.to_path_buf())
        } else {
            RecordSource::Trace(path.to_path_buf())
        }
    }

    /// What the run says about itself; with `salvage`, a log folder is
    /// read without sled (see [`LogReader::salvage`]).
    pub fn info(&self, salvage: bool) -> Result<SourceInfo, ReplayError> {
        Ok(match self {
            RecordSource::Trace(p) => {
                let h = TraceReader::open(p)?.header().clone();
                SourceInfo {
                    scenario: h.scenario,
                    seed: h.seed,
                    pacsim_version: h.pacsim_version,
                }
            }
            RecordSource::Log(p) => {
                let reader = match salvage {
                    true => LogReader::salvage(p)?,
                    false => LogReader::open_unfinished(p)?,
                };
                let m = reader.meta().clone();
                SourceInfo {
                    scenario: m.scenario,
                    seed: m.seed,
                    pacsim_version: m.pacsim_version,
                }
            }
        })
    }

    /// Feeds every record to `f` in seq order until it breaks. With
    /// `salvage`, damage ends the feed instead of failing it, and the
    /// returned text says what was lost.
    pub fn for_each(
        &self,
        salvage: bool,
        mut f: impl FnMut(Record) -> ControlFlow<()>,
    ) -> Result<Option<String>, ReplayError> {
        match self {
            RecordSource::Trace(p) => {
                let mut reader = TraceReader::open(p)?;
                let mut failed = None;
                for r in reader.records() {
                    match r {
                        Ok(r) => {
                            if f(r).is_break() {
                                return Ok(None);
                            }
                        }
                        Err(e) => {
                            failed = Some(e);
                            break;
                        }
                    }
                }
                match failed {
                    None => Ok(None),
                    Some(e) if salvage => Ok(Some(reader.salvage(e, None).with_file(p).describe())),
                    Some(e) => Err(e.into()),
                }
            }
            RecordSource::Log(p) => {
                let reader = if salvage {
                    LogReader::salvage(p)?
                } else {
                    LogReader::open(p)?
                };
                let mut kept = 0u64;
                for r in reader.records() {
                    match r {
                        Ok(r) => {
                            kept += 1;
                            if f(r).is_break() {
                                return Ok(None);
                            }
                        }
                        Err(e) if salvage => {
                            let meta = reader.meta();
                            let lost = match meta.finished {
                                true => meta.records.saturating_sub(kept).to_string(),
                                false => "an unknown number (unfinished log)".into(),
                            };
                            return Ok(Some(format!(
                                "salvaged {kept} records, lost {lost}; first damage: {e}"
                            )));
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
                Ok((!reader.meta().finished).then(|| {
                    format!(
                        "unfinished log: read the {kept} records it stored; its run stopped before \
                         writing the count and digest to check them against"
                    )
                }))
            }
        }
    }
}

/// Actor names of the run's world (`names[id]`), or None when the embedded
/// scenario no longer parses (then ids are shown instead).
pub fn actor_names(info: &SourceInfo) -> Option<Vec<String>> {
    actor_names_or_why(info).ok()
}

/// [`actor_names`], or why there are none: the embedded scenario no
/// longer parses, or a workload trace it names cannot be read again.
pub fn actor_names_or_why(info: &SourceInfo) -> Result<Vec<String>, ReplayError> {
    let scenario = header_scenario(&info.scenario, info.seed)?;
    Ok(World::build(&scenario).names)
}

/// `names[id]`, or `actor#id` for an id the names do not cover.
pub fn name_of(names: Option<&[String]>, id: crate::model::ActorId) -> String {
    names
        .and_then(|n| n.get(id.0 as usize))
        .cloned()
        .unwrap_or_else(|| id.to_string())
}
