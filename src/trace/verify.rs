//! Exact replay: re-run the scenario embedded in a trace and compare every
//! delivered record with the trace's, streaming both. Records are compared
//! as encoded bytes (the verifier encodes what the kernel delivers and checks
//! it against the next bytes of the current frame), so nothing is decoded
//! unless they differ; equal bytes are equal records because the encoding is
//! deterministic and self-delimiting. A salvaged copy (`salvaged.rs`) is
//! expected to end where its header says: the run going on past that end is
//! no divergence.

use super::format::TraceError;
use super::reader::{Footer, Salvage, TraceReader};
use super::{ReplayError, header_scenario};
use crate::event::{Record, RecordRef};
use crate::model::SimTime;
use crate::sim::RecordSink;
use crate::store::Digest;
use crate::store::codec::{Decoder, Encoder};
use crate::world::World;
use std::io::Read;
use std::path::Path;

/// The first record where the run and the trace part ways.
#[derive(Debug)]
pub struct Divergence {
    pub seq: u64,
    /// What the run delivered (None: the run ended first).
    pub run: Option<Record>,
    /// What the trace holds (None: the trace ended first; Err: it does not
    /// decode).
    pub trace: Result<Option<Record>, String>,
}

#[derive(Debug)]
pub enum Verdict {
    /// Every record matched and the footer's count and digest agree.
    Match {
        records: u64,
        digest: Digest,
    },
    Diverged(Divergence),
    /// A salvaged copy: its records all matched and it ends where its
    /// header says, with its footer's count and digest agreeing; the run
    /// went on after it.
    EndsSalvaged {
        records: u64,
        digest: Digest,
    },
    /// `--salvage`: the records of the good frames matched; the rest is lost.
    Salvaged {
        records: u64,
        salvage: Salvage,
    },
    /// Every record matched, and the trace ends where the run, with its
    /// invariants checked, stops on `invariant`: the trace of a run that
    /// an invariant stopped (`run --check`), reproduced.
    MatchStopped {
        records: u64,
        digest: Digest,
        invariant: &'static str,
        at: crate::model::SimTime,
    },
}

/// A `RecordSink` that checks each delivered record against the trace.
pub struct Verifier<R: Read> {
    reader: TraceReader<R>,
    /// Encodes the run's records as the trace's are (its header says how).
    encoder: Encoder,
    scratch: Vec<u8>,
    /// Read position in the reader's current frame, and that frame's size.
    pos: usize,
    frame_len: usize,
    has_frame: bool,
    matched: u64,
    trace_ended: bool,
    /// Where a salvaged copy ends (its header says), and whether it did.
    salvaged_end: Option<u64>,
    ended_salvaged: bool,
    diverged: Option<Divergence>,
    damage: Option<TraceError>,
}

impl<R: Read> Verifier<R> {
    pub fn new(reader: TraceReader<R>) -> Self {
        let salvaged_end = super::salvaged::end(&reader.header().scenario);
        Verifier {
            encoder: Encoder::new(reader.encoding()),
            reader,
            scratch: Vec::with_capacity(256),
            pos: 0,
            frame_len: 0,
            has_frame: false,
            matched: 0,
            trace_ended: false,
            salvaged_end,
            ended_salvaged: false,
            diverged: None,
            damage: None,
        }
    }

    /// True once there is nothing more to compare (divergence, damage, or
    /// the end of a salvaged copy).
    #[inline]
    pub fn stopped(&self) -> bool {
        self.diverged.is_some() || self.damage.is_some() || self.ended_salvaged
    }

    /// Moves to the next frame when the current one is used up; false when
    /// the trace has no more records (or is damaged).
    fn ensure_frame(&mut self) -> bool {
        if self.has_frame && self.pos < self.frame_len {
            return true;
        }
        if self.trace_ended {
            return false;
        }
        match self.reader.next_raw() {
            Ok(Some(raw)) => {
                self.frame_len = raw.bytes.len();
                self.pos = 0;
                self.has_frame = true;
                true
            }
            Ok(None) => {
                self.trace_ended = true;
                self.has_frame = false;
                false
            }
            Err(e) => {
                self.damage = Some(e);
                self.has_frame = false;
                false
            }
        }
    }

    /// The trace's record at the read position, the next after `matched`,
    /// its time a step from `base_at`.
    fn trace_record_here(&self, base_at: SimTime) -> Result<Option<Record>, String> {
        if !self.has_frame {
            return Ok(None);
        }
        let bytes = &self.reader.current_records()[self.pos..];
        Decoder::new(self.reader.encoding(), self.matched, base_at)
            .decode_one(bytes)
            .map(|(r, _)| Some(r))
    }

    /// When the trace ended, intact, with every one of its records matched
    /// while the run went on: its footer (count and digest).
    fn ended_first_whole(&self) -> Option<Footer> {
        let d = self.diverged.as_ref()?;
        let ended = d.run.is_some() && matches!(d.trace, Ok(None)) && self.damage.is_none();
        let footer = self.reader.footer()?;
        (ended && footer.records == self.matched).then_some(footer)
    }

    /// The verdict once the run has ended (or stopped).
    pub fn finish(mut self, salvage: bool) -> Result<Verdict, TraceError> {
        if let Some(d) = self.diverged.take() {
            return Ok(Verdict::Diverged(d));
        }
        if let (true, Some(footer)) = (self.ended_salvaged, self.reader.footer()) {
            return Ok(Verdict::EndsSalvaged {
                records: self.matched,
                digest: footer.digest,
            });
        }
        if self.damage.is_none() && self.ensure_frame() {
            // The trace goes on after the run ended.
            let trace = self.trace_record_here(self.encoder.base_at());
            return Ok(Verdict::Diverged(Divergence {
                seq: self.matched,
                run: None,
                trace,
            }));
        }
        match (self.damage.take(), self.reader.footer()) {
            (Some(e), _) if salvage => {
                let path = self.reader.path().to_path_buf();
                let salvage = self.reader.salvage(e, None).with_file(&path);
                Ok(Verdict::Salvaged {
                    records: self.matched,
                    salvage,
                })
            }
            (Some(e), _) => Err(e),
            // Frame counts that disagree with the records they hold.
            (None, Some(footer)) if footer.records != self.matched => {
                Ok(Verdict::Diverged(Divergence {
                    seq: self.matched,
                    run: None,
                    trace: Err(format!(
                        "the trace counts {} records, {} matched",
                        footer.records, self.matched
                    )),
                }))
            }
            (None, Some(footer)) => Ok(Verdict::Match {
                records: self.matched,
                digest: footer.digest,
            }),
            (None, None) => unreachable!("a trace without damage ends with its footer"),
        }
    }
}

impl<R: Read> RecordSink for Verifier<R> {
    #[inline]
    fn record(&mut self, record: &RecordRef<'_>) {
        if self.stopped() {
            return;
        }
        self.scratch.clear();
        let base_at = self.encoder.base_at();
        self.encoder.encode_into(&mut self.scratch, record);
        let run = || record.to_record();
        if !self.ensure_frame() {
            if self.damage.is_some() {
                return;
            }
            // The trace ended first: where a salvaged copy should, or early.
            if self.salvaged_end == Some(self.matched) {
                self.ended_salvaged = true;
            } else {
                self.diverged = Some(Divergence {
                    seq: record.seq,
                    run: Some(run()),
                    trace: Ok(None),
                });
            }
            return;
        }
        let here = &self.reader.current_records()[self.pos..];
        if here.starts_with(&self.scratch) {
            self.pos += self.scratch.len();
            self.matched += 1;
        } else {
            self.diverged = Some(Divergence {
                seq: record.seq,
                run: Some(run()),
                trace: self.trace_record_here(base_at),
            });
        }
    }
}

/// Re-runs the trace's scenario and compares; `progress` gets the virtual
/// time and the records so far now and then.
pub fn verify(
    path: &Path,
    salvage: bool,
    mut progress: impl FnMut(crate::model::SimTime, u64),
) -> Result<Verdict, ReplayError> {
    let reader = TraceReader::open(path)?;
    let header = reader.header().clone();
    let scenario = header_scenario(&header.scenario, header.seed)?;
    let world = World::build(&scenario);
    let keep_going = |v: &Verifier<_>, now, n| {
        if n & 0xFFFF == 0 {
            progress(now, n);
        }
        !v.stopped()
    };
    let mut verifier = Verifier::new(reader);
    if super::session::is_session(&header.scenario) {
        let (injections, end) = session_inputs(path)?;
        crate::run::drive_session(world, injections, end, &mut verifier, keep_going);
        return Ok(verifier.finish(salvage)?);
    }
    crate::run::drive(world, &mut verifier, keep_going);
    let ended_first = verifier.ended_first_whole();
    let verdict = verifier.finish(salvage)?;
    match ended_first.and_then(|footer| stopped_there(&scenario, &footer)) {
        Some(stopped) => Ok(stopped),
        None => Ok(verdict),
    }
}

/// Whether the scenario, run with its invariants checked (every 2^20
/// events, as a plain run, or after every event, as `run --check`), stops
/// on one exactly where the trace ends, with the trace's digest: then the
/// trace is of a run an invariant stopped, and the re-run's records past
/// it were never made.
fn stopped_there(scenario: &crate::scenario::Scenario, footer: &Footer) -> Option<Verdict> {
    for every_event in [false, true] {
        let log = crate::store::EventLog::in_memory();
        let out = crate::run::simulate_checked(scenario, log, every_event, |_, _| {}).ok()?;
        if let Some(v) = out.violation
            && out.events == footer.records
            && out.digest == footer.digest
        {
            return Some(Verdict::MatchStopped {
                records: footer.records,
                digest: footer.digest,
                invariant: v.invariant,
                at: v.at,
            });
        }
    }
    None
}

/// A served session's requests, in order, and its last instant (a damaged
/// trace's inputs end at the damage; the comparison then reports it).
fn session_inputs(
    path: &Path,
) -> Result<(Vec<crate::run::Injection>, crate::model::SimTime), ReplayError> {
    let mut reader = TraceReader::open(path)?;
    let mut injections = Vec::new();
    let mut end = crate::model::SimTime::ZERO;
    for r in reader.records() {
        let Ok(r) = r else { break };
        end = r.at;
        injections.extend(super::session::injection(&r));
    }
    Ok((injections, end))
}
