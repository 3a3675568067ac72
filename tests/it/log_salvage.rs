//! A damaged sled log: one flipped byte anywhere, or a file cut at any
//! length. Reading it normally gives a clear error or the records; with
//! `--salvage` (a read-only scan for frames, no sled) it gives back the
//! records before the damaged chunk, never a panic, never a record that
//! was not stored, and it writes nothing.

use crate::support::{load, pacsim, scenario_path};
use pacsim::event::Record;
use pacsim::store::{EventLog, LogReader, salvage};
use std::path::Path;

/// The quickstart run persisted into `dir`, and its records.
fn quickstart_log(dir: &Path) -> Vec<Record> {
    let scenario = load(&scenario_path("quickstart.yaml"));
    let log = EventLog::create(dir, &scenario.source, scenario.seed).unwrap();
    pacsim::run::simulate(&scenario, log, |_, _| {}).unwrap();
    let reader = LogReader::open(dir).unwrap();
    reader.records().map(Result::unwrap).collect()
}

/// What `--salvage` reads from `dir`: its records up to the first
/// damage, which must be the original's first ones.
fn salvaged(dir: &Path, original: &[Record]) -> Option<usize> {
    let reader = LogReader::salvage(dir).ok()?;
    let mut kept = 0;
    for r in reader.records() {
        let Ok(r) = r else { break };
        assert_eq!(&r, &original[kept], "salvage invented record {kept}");
        kept += 1;
    }
    Some(kept)
}

/// The records the scan finds in order from 0, checked chunk by chunk
/// against the intact log's chunks (no decoding: fast enough to try
/// thousands of damaged copies in a debug build).
fn carved_prefix(dir: &Path, intact: &[Vec<u8>]) -> u64 {
    let Ok(carved) = salvage::carve(dir) else {
        return 0;
    };
    let (chunks, _) = carved.contiguous();
    let mut kept = 0;
    for (i, found) in chunks.iter().enumerate() {
        let raw = salvage::read_chunk(found).expect("an intact frame reads back");
        assert_eq!(
            Some(&raw),
            intact.get(i),
            "chunk {i} differs from what was stored"
        );
        kept += u64::from(found.head.count);
    }
    kept
}

fn intact_chunks(dir: &Path) -> Vec<Vec<u8>> {
    let carved = salvage::carve(dir).unwrap();
    let (chunks, gap) = carved.contiguous();
    assert_eq!(gap, None);
    chunks
        .iter()
        .map(|f| salvage::read_chunk(f).unwrap())
        .collect()
}

fn copy_log(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_log(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn salvage_of_an_intact_log_is_the_whole_log_and_writes_nothing() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("log");
    let original = quickstart_log(&dir);
    let before = std::fs::read(dir.join("db")).unwrap();
    let reader = LogReader::salvage(&dir).unwrap();
    assert!(reader.meta().finished);
    assert_eq!(reader.meta().records, original.len() as u64);
    let normal = LogReader::open(&dir).unwrap();
    assert_eq!(reader.meta().digest, normal.meta().digest);
    assert_eq!(
        reader.recompute_digest().unwrap().to_string(),
        normal.meta().digest
    );
    drop(normal);
    assert_eq!(salvaged(&dir, &original), Some(original.len()));
    assert_eq!(
        std::fs::read(dir.join("db")).unwrap(),
        before,
        "salvage wrote"
    );
}

/// One flipped byte costs the chunk it lands in and those after it (they
/// follow a gap), never one before it; outside every chunk it costs
/// nothing.
#[test]
fn a_flipped_byte_costs_at_most_its_chunk_and_what_follows() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("log");
    let total = quickstart_log(&dir).len() as u64;
    let intact = intact_chunks(&dir);
    let frames: Vec<(u64, u64, u64)> = {
        let carved = salvage::carve(&dir).unwrap();
        let (chunks, _) = carved.contiguous();
        let mut before = 0;
        chunks
            .iter()
            .map(|f| {
                let end = f.offset
                    + (pacsim::store::frame::CHUNK_HEAD as u64)
                    + u64::from(f.head.payload_len);
                let span = (f.offset, end, before);
                before += u64::from(f.head.count);
                span
            })
            .collect()
    };
    let db = std::fs::read(dir.join("db")).unwrap();
    let work = root.path().join("flipped");
    copy_log(&dir, &work);
    // About 3,000 flips over the file, at an odd stride.
    for at in (0..db.len()).step_by((db.len() / 3_000) | 1) {
        let mut bytes = db.clone();
        bytes[at] ^= 0x5a;
        std::fs::write(work.join("db"), &bytes).unwrap();
        let at = at as u64;
        let owed = frames
            .iter()
            .find(|(start, end, _)| (*start..*end).contains(&at))
            .map_or(total, |(_, _, before)| *before);
        let kept = carved_prefix(&work, &intact);
        assert!(
            kept >= owed,
            "flip at {at}: kept {kept} records, owed {owed}"
        );
    }
}

#[test]
fn a_log_cut_at_any_length_salvages_a_prefix() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("log");
    let total = quickstart_log(&dir).len() as u64;
    let intact = intact_chunks(&dir);
    let db = std::fs::read(dir.join("db")).unwrap();
    let work = root.path().join("cut");
    copy_log(&dir, &work);
    let mut kept_at = Vec::new();
    // About 2,000 cuts over the file (sled sizes it in whole segments),
    // and every one of the last 64 bytes.
    let step = (db.len() / 2_000).max(1);
    for len in (0..=db.len()).step_by(step).chain(db.len() - 64..=db.len()) {
        std::fs::write(work.join("db"), &db[..len]).unwrap();
        kept_at.push(carved_prefix(&work, &intact));
    }
    assert_eq!(
        kept_at.last(),
        Some(&total),
        "the whole file salvages whole"
    );
    assert!(
        kept_at.windows(2).all(|w| w[0] <= w[1]),
        "a longer file never salvages less"
    );
}

/// Without --salvage a damaged log is refused with one message, through
/// the real binary, never a panic (sled's own checks, then pacsim's).
#[test]
fn reading_a_damaged_log_without_salvage_fails_cleanly() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("log");
    quickstart_log(&dir);
    let db = std::fs::read(dir.join("db")).unwrap();
    let work = root.path().join("flipped");
    for at in (0..db.len()).step_by(db.len() / 25) {
        copy_log(&dir, &work);
        let mut bytes = db.clone();
        bytes[at] ^= 0x5a;
        std::fs::write(work.join("db"), &bytes).unwrap();
        for salvage in [false, true] {
            let mut args = vec!["inspect", work.to_str().unwrap(), "--counts"];
            if salvage {
                args.push("--salvage");
            }
            let out = pacsim(&args);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                !stderr.contains("panicked") && out.status.code().is_some_and(|c| c <= 3),
                "flip at {at}, salvage {salvage}: {stderr}"
            );
        }
    }
}

/// A log another process holds open, and an unfinished one, are refused
/// with what to do: wait, restart the session, or salvage.
#[test]
fn a_held_or_unfinished_log_is_refused_with_what_to_do() {
    let root = tempfile::tempdir().unwrap();
    let scenario = load(&scenario_path("quickstart.yaml"));
    let open = root.path().join("open");
    let held = EventLog::create(&open, &scenario.source, scenario.seed).unwrap();
    let out = pacsim(&["inspect", open.to_str().unwrap(), "--counts"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("in use by another pacsim process") && !stderr.contains("Os {"),
        "{stderr}"
    );
    // Dropped unfinished: what a killed run leaves.
    drop(held);

    let session = root.path().join("session");
    std::fs::create_dir(&session).unwrap();
    std::fs::write(session.join("journal"), b"").unwrap();
    for dir in [open, session.join("log")] {
        if !dir.exists() {
            let log = EventLog::create(&dir, &scenario.source, scenario.seed).unwrap();
            drop(log);
        }
        let Err(e) = LogReader::open(&dir) else {
            panic!("{} read as finished", dir.display());
        };
        let e = e.to_string();
        assert!(e.contains("is unfinished"), "{e}");
        let served = dir.ends_with("log");
        assert_eq!(e.contains("start `pacsim serve`"), served, "{e}");
        assert!(e.contains("--salvage"), "{e}");
    }
}
