//! Hostile and damaged trace files: frames that pass their checksum but
//! claim what their bytes cannot hold, and a fuzz of byte flips and cuts of
//! a real trace. Whatever the bytes, reading ends in a typed error or in a
//! salvage of exactly the original's first records, never in a panic or an
//! allocation sized by a number read from the file.

use crate::support::{pacsim, repo};
use pacsim::event::Record;
use pacsim::model::ActorId;
use pacsim::sim::RecordSink;
use pacsim::trace::format::{Damage, HEADER_PREFIX_BYTES, frame_crc};
use pacsim::trace::source::RecordSource;
use pacsim::trace::whatif::what_if;
use pacsim::trace::{TraceError, TraceReader, TraceWriter};
use std::ops::ControlFlow;
use std::path::Path;

fn quickstart_bytes() -> Vec<u8> {
    std::fs::read(repo().join("traces/quickstart.pstrace")).unwrap()
}

/// Where the header ends (the first frame starts).
fn header_end(bytes: &[u8]) -> usize {
    HEADER_PREFIX_BYTES + u32::from_le_bytes(bytes[10..14].try_into().unwrap()) as usize
}

/// A frame around `payload`, with a checksum that matches.
fn sealed_frame(payload: &[u8]) -> Vec<u8> {
    let len = payload.len() as u32;
    let mut out = len.to_le_bytes().to_vec();
    out.extend_from_slice(&frame_crc(len, payload).to_le_bytes());
    out.extend_from_slice(payload);
    out
}

/// The quickstart header followed by one records frame holding `records`
/// (encoded bytes) under the record count `count`.
fn trace_with_frame(count: u32, records: &[u8]) -> Vec<u8> {
    let original = quickstart_bytes();
    let mut bytes = original[..header_end(&original)].to_vec();
    let mut payload = vec![1u8];
    payload.extend_from_slice(&count.to_le_bytes());
    payload.extend_from_slice(records);
    bytes.extend_from_slice(&sealed_frame(&payload));
    bytes
}

/// The records a salvaging reader keeps from `bytes`, and the error that
/// ended reading (None: the trace is whole).
fn salvage(bytes: &[u8]) -> Result<(Vec<Record>, Option<TraceError>), TraceError> {
    let mut reader = TraceReader::new(bytes, Path::new("fuzzed"))?;
    let mut kept = Vec::new();
    for r in reader.records() {
        match r {
            Ok(r) => kept.push(r),
            Err(e) => {
                let s = reader.salvage(e, Some(bytes.len() as u64));
                assert_eq!(s.records_kept, kept.len() as u64);
                return Ok((kept, Some(s.error)));
            }
        }
    }
    Ok((kept, None))
}

/// Before, a checksummed frame claiming 2^32-1 records made every reader
/// (inspect, export, even with --salvage) reserve room for them: ~343 GB.
#[test]
fn a_frame_claiming_more_records_than_its_bytes_hold_is_content_damage() {
    let bytes = trace_with_frame(u32::MAX, &[0u8; 64]);
    let (kept, e) = salvage(&bytes).unwrap();
    let e = e.expect("damage");
    assert!(kept.is_empty());
    assert_eq!(e.damage(), Some(Damage::Content), "{e}");
    let text = e.to_string();
    assert!(
        text.contains("claims 4294967295 records, but its 64 bytes hold at most 12"),
        "{text}"
    );

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("count.pstrace");
    std::fs::write(&path, &bytes).unwrap();
    let p = path.to_str().unwrap();
    let o = pacsim(&["inspect", p]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("claims 4294967295 records"));
    let out = dir.path().join("out.pstrace");
    let o = pacsim(&["export", p, "-o", out.to_str().unwrap(), "--salvage"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("salvaged 0 records"));
}

/// Header and frame lengths are read as far as the file goes: a length far
/// past the end of a short file is truncation, found without a buffer of
/// that length.
#[test]
fn lengths_past_the_end_of_the_file_are_truncation() {
    let original = quickstart_bytes();
    let end = header_end(&original);
    let mut bytes = original[..end].to_vec();
    bytes.extend_from_slice(&(15u32 << 20).to_le_bytes());
    bytes.extend_from_slice(&[0u8; 4 + 100]);
    let (_, e) = salvage(&bytes).unwrap();
    let e = e.expect("damage");
    assert_eq!(e.damage(), Some(Damage::Truncated), "{e}");
    assert!(
        e.to_string().contains("100 of 15728640 payload bytes"),
        "{e}"
    );
}

/// The quickstart trace's records, rewritten by `edit` into a trace whose
/// checksums, footer and digest are all valid.
fn rewritten_quickstart(edit: impl FnOnce(&mut Vec<Record>)) -> Vec<u8> {
    let original = quickstart_bytes();
    let mut reader = TraceReader::new(&original[..], Path::new("q")).unwrap();
    let header = reader.header().clone();
    let mut records: Vec<Record> = reader.records().map(|r| r.unwrap()).collect();
    edit(&mut records);
    let mut w = TraceWriter::new(Vec::new(), Path::new("q"), &header).unwrap();
    for r in &records {
        w.record(&r.borrowed());
    }
    w.finish().unwrap().0
}

/// Before, `replay --what-if` handed every record to `actors[to]` and
/// panicked on an index out of bounds.
#[test]
fn a_record_for_an_actor_the_scenario_lacks_is_an_error_in_what_if() {
    let bytes = rewritten_quickstart(|r| r[100].to = ActorId(10_000));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("foreign.pstrace");
    std::fs::write(&path, bytes).unwrap();
    let e = what_if(&path, &[], false).err().expect("an error");
    assert!(
        e.to_string()
            .contains("record #100 is delivered to actor#10000, but the trace's scenario has"),
        "{e}"
    );
    let o = pacsim(&["replay", path.to_str().unwrap(), "--what-if", "hosts=4"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(!String::from_utf8_lossy(&o.stderr).contains("panicked"));
}

/// A small deterministic generator (xorshift64*), so the sample is the
/// same on every run and a failure names its case.
struct Sample(u64);

impl Sample {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % n
    }
}

/// Each frame's start and payload length.
fn frames(bytes: &[u8]) -> Vec<(usize, usize)> {
    let mut at = header_end(bytes);
    let mut out = Vec::new();
    while at < bytes.len() {
        let len = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        out.push((at, len));
        at += 8 + len;
    }
    out
}

/// Offsets worth every value: the header, the head and first `first`
/// payload bytes of the first frame, `later` bytes on either side of every
/// later frame's start, and the last `later` bytes. (Past the first frame
/// a case costs a decode of the frames before it, ~10 ms in a debug build.)
fn dense_offsets(bytes: &[u8], first: usize, later: usize) -> Vec<usize> {
    let mut out: Vec<usize> = (0..header_end(bytes) + 8 + first).collect();
    for (at, _) in frames(bytes) {
        out.extend(at.saturating_sub(later)..(at + 8 + later).min(bytes.len()));
    }
    out.extend(bytes.len().saturating_sub(later)..bytes.len());
    out.sort_unstable();
    out.dedup();
    out
}

/// What reading `bytes` must give: a header error, or the original's first
/// records (all of them only when nothing is wrong).
fn check_reading(bytes: &[u8], all: &[Record], case: &str) {
    match salvage(bytes) {
        Err(e) => assert!(e.damage().is_none(), "{case}: {e}"),
        Ok((kept, error)) => {
            assert_eq!(kept.as_slice(), &all[..kept.len()], "{case}");
            if error.is_none() {
                assert_eq!(kept.len(), all.len(), "{case}: whole, yet short");
            }
        }
    }
}

/// Byte flips at every offset of the header and of each frame's start and
/// at a seeded sample elsewhere, cuts at every length near a frame boundary
/// and at a sample: reading (as inspect, export and salvage do) never
/// panics and yields an error or a prefix of the original records. A few
/// cases go through files and the binary too.
#[test]
fn fuzzed_flips_and_cuts_of_a_real_trace_read_as_an_error_or_a_prefix() {
    let original = quickstart_bytes();
    let (all, error) = salvage(&original).unwrap();
    assert!(error.is_none() && all.len() > 2000);
    let mut sample = Sample(0x005e_edf0_7ace);
    let mut offsets = dense_offsets(&original, 1024, 16);
    offsets.extend((0..200).map(|_| sample.below(original.len())));
    for &offset in &offsets {
        let mut bytes = original.clone();
        bytes[offset] ^= 1 << (offset % 8);
        check_reading(&bytes, &all, &format!("flip at {offset}"));
    }
    let mut lengths = dense_offsets(&original, 1024, 16);
    lengths.extend((0..200).map(|_| sample.below(original.len())));
    for &len in &lengths {
        check_reading(&original[..len], &all, &format!("cut at {len}"));
    }

    // Every bit of each records frame's count, with the checksum made to
    // match: the records are intact, the count is not (before, a high bit
    // made the reader reserve room for billions of records).
    for (at, len) in frames(&original) {
        let before = salvage(&original[..at]).map_or(0, |(kept, _)| kept.len());
        for bit in 0..32 {
            let mut bytes = original.clone();
            let payload = &mut bytes[at + 8..at + 8 + len];
            if payload[0] != 1 {
                break;
            }
            payload[1 + bit / 8] ^= 1 << (bit % 8);
            let crc = frame_crc(len as u32, payload);
            bytes[at + 4..at + 8].copy_from_slice(&crc.to_le_bytes());
            let case = format!("count bit {bit} of the frame at {at}");
            let (kept, e) = salvage(&bytes).unwrap();
            let e = e.unwrap_or_else(|| panic!("{case}: unnoticed"));
            assert_eq!(e.damage(), Some(Damage::Content), "{case}: {e}");
            assert_eq!(kept.as_slice(), &all[..before], "{case}");
        }
    }

    // Through files, as the commands read them, and through the binary.
    let dir = tempfile::tempdir().unwrap();
    for case in 0..6 {
        let mut bytes = original.clone();
        let at = sample.below(bytes.len());
        bytes[at] ^= 0x40;
        bytes.truncate(bytes.len() - case * 1000);
        let path = dir.path().join(format!("fuzzed-{case}.pstrace"));
        std::fs::write(&path, &bytes).unwrap();
        let mut kept = Vec::new();
        let source = RecordSource::at(&path);
        if source.info(true).is_ok() {
            let note = source.for_each(true, |r| {
                kept.push(r);
                ControlFlow::Continue(())
            });
            assert!(note.unwrap().is_some(), "case {case}: damage unnoticed");
            assert_eq!(kept.as_slice(), &all[..kept.len()], "case {case}");
        }
        let p = path.to_str().unwrap();
        let out = dir.path().join(format!("out-{case}.pstrace"));
        for args in [
            vec!["inspect", p, "--counts", "--salvage"],
            vec!["export", p, "-o", out.to_str().unwrap(), "--salvage"],
        ] {
            let o = pacsim(&args);
            let stderr = String::from_utf8_lossy(&o.stderr);
            assert!(matches!(o.status.code(), Some(0 | 2)), "{args:?}: {stderr}");
            assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        }
        if out.exists() {
            let (exported, error) = salvage(&std::fs::read(&out).unwrap()).unwrap();
            assert!(error.is_none(), "case {case}: the export is whole");
            assert_eq!(exported.as_slice(), &all[..exported.len()], "case {case}");
        }
    }
}
