//! Hostile and damaged trace files: frames that pass their checksum but
//! claim what their bytes cannot hold, and a fuzz of byte flips and cuts of
//! a real trace. Whatever the bytes, reading ends in a typed error or in a
//! salvage of exactly the original's first records, never in a panic or an
//! allocation sized by a number read from the file.

use crate::support::{pacsim, repo};
use pacsim::event::{Record, RecordRef};
use pacsim::model::ActorId;
use pacsim::sim::RecordSink;
use pacsim::trace::format::{Damage, HEADER_PREFIX_BYTES, frame_crc};
use pacsim::trace::whatif::what_if;
use pacsim::trace::{TraceError, TraceReader, TraceWriter};
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
        text.contains("claims 4294967295 records, but its 64 bytes hold at most 10"),
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
        w.record(&RecordRef {
            seq: r.seq,
            at: r.at,
            from: r.from,
            to: r.to,
            cause: r.cause,
            event: &r.event,
        });
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
