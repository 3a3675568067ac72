//! Self-describing values (log format `pacsim-log/5`): every chunk of
//! records, the log's identity and its end are stored in sled as frames
//! that carry a magic, their own lengths and a CRC. sled reads them back
//! as usual; when sled cannot (a damaged page, a full disk that refuses
//! even an open), `--salvage` finds the frames by scanning the database's
//! files read-only ([`super::salvage`]), and a damaged frame costs only
//! its own records.
//!
//! A chunk frame: `PSLCHNK5`, first seq (u64), base time (u64: the time
//! of the record before the first, from which the first one's time is a
//! step), record count (u32), raw length (u32), payload length (u32),
//! CRC-32 of the 28 bytes before it and the payload, then the payload (the
//! records' [delta encodings](super::codec::Encoding::Delta), lz4 block
//! format). All integers little-endian. `pacsim-log/4`'s frames, still
//! read, are `PSLCHNK4` without the base time, holding bincode records.

use super::codec::{Encoding, decode_value, encode_value};
use crate::model::SimTime;
use serde::{Deserialize, Serialize};

pub const CHUNK_MAGIC: [u8; 8] = *b"PSLCHNK5";
/// pacsim-log/4's chunks.
pub const CHUNK_MAGIC_V4: [u8; 8] = *b"PSLCHNK4";
pub const META_MAGIC: [u8; 8] = *b"PSLMETA4";
pub const END_MAGIC: [u8; 8] = *b"PSLEND04";

/// Magic, first seq, base time, count, raw length, payload length, CRC.
pub const CHUNK_HEAD: usize = 8 + 8 + 8 + 4 + 4 + 4 + 4;
/// The same without the base time (pacsim-log/4).
const CHUNK_HEAD_V4: usize = CHUNK_HEAD - 8;
/// The largest chunk header: how much a scan must see to read one.
pub const MAX_CHUNK_HEAD: usize = CHUNK_HEAD;

/// Magic, body length, CRC, then the body.
pub const TAGGED_HEAD: usize = 8 + 4 + 4;

pub use super::codec::MAX_RAW_CHUNK;

/// The largest meta body (the scenario text with its includes, bounded by
/// the loader at 64 MiB each, and a little more).
pub const MAX_TAGGED_BODY: u32 = 160 << 20;

/// A chunk frame's header fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChunkHead {
    pub first_seq: u64,
    /// The time the first record's step starts from (zero in bincode).
    pub base_at: SimTime,
    pub count: u32,
    pub raw_len: u32,
    pub payload_len: u32,
    /// What the records are encoded in, by the frame's version.
    pub encoding: Encoding,
}

impl ChunkHead {
    /// The header's own length, before the payload.
    pub fn head_len(&self) -> usize {
        match self.encoding {
            Encoding::Delta => CHUNK_HEAD,
            Encoding::Bincode => CHUNK_HEAD_V4,
        }
    }

    /// The whole frame's length.
    pub fn frame_len(&self) -> usize {
        self.head_len() + self.payload_len as usize
    }
}

/// What identifies a log: written at its creation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetaBody {
    pub format: String,
    pub scenario: String,
    pub seed: u64,
    pub pacsim_version: String,
}

/// Written by `finish`: the record count and digest of a complete log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndBody {
    pub records: u64,
    pub digest: [u8; 32],
}

/// Frames `raw` (the delta encodings of `count` records from `first_seq`
/// on, the first a step from `base_at`) into `out`, compressed; `out` is
/// reused by the writer thread.
pub fn chunk_into(first_seq: u64, base_at: SimTime, count: u32, raw: &[u8], out: &mut Vec<u8>) {
    out.clear();
    out.resize(
        CHUNK_HEAD + lz4_flex::block::get_maximum_output_size(raw.len()),
        0,
    );
    let written = lz4_flex::block::compress_into(raw, &mut out[CHUNK_HEAD..])
        .expect("the buffer is sized by get_maximum_output_size");
    out.truncate(CHUNK_HEAD + written);
    out[..8].copy_from_slice(&CHUNK_MAGIC);
    out[8..16].copy_from_slice(&first_seq.to_le_bytes());
    out[16..24].copy_from_slice(&base_at.0.to_le_bytes());
    out[24..28].copy_from_slice(&count.to_le_bytes());
    out[28..32].copy_from_slice(&(raw.len() as u32).to_le_bytes());
    out[32..36].copy_from_slice(&(written as u32).to_le_bytes());
    let crc = chunk_crc(&out[8..36], &out[CHUNK_HEAD..]);
    out[36..40].copy_from_slice(&crc.to_le_bytes());
}

fn chunk_crc(fields: &[u8], payload: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(fields);
    h.update(payload);
    h.finalize()
}

fn le_u32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

fn le_u64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

/// The header at the start of `bytes` if it is a plausible chunk frame of
/// either version (its payload may still be cut short or damaged).
pub fn chunk_head(bytes: &[u8]) -> Option<ChunkHead> {
    let magic = bytes.get(..8)?;
    let (encoding, base) = if magic == CHUNK_MAGIC {
        (Encoding::Delta, 8)
    } else if magic == CHUNK_MAGIC_V4 {
        (Encoding::Bincode, 0)
    } else {
        return None;
    };
    if bytes.len() < CHUNK_HEAD_V4 + base {
        return None;
    }
    let head = ChunkHead {
        first_seq: le_u64(bytes, 8),
        base_at: SimTime(if base == 0 { 0 } else { le_u64(bytes, 16) }),
        count: le_u32(bytes, 16 + base),
        raw_len: le_u32(bytes, 20 + base),
        payload_len: le_u32(bytes, 24 + base),
        encoding,
    };
    let plausible = head.count > 0
        && head.raw_len <= MAX_RAW_CHUNK
        && head.payload_len as usize
            <= lz4_flex::block::get_maximum_output_size(head.raw_len as usize);
    plausible.then_some(head)
}

/// Whether the whole frame at the start of `bytes`, of header `head`,
/// has its CRC.
pub fn chunk_intact(head: &ChunkHead, bytes: &[u8]) -> bool {
    let (len, end) = (head.head_len(), head.frame_len());
    let Some(frame) = bytes.get(..end) else {
        return false;
    };
    chunk_crc(&frame[8..len - 4], &frame[len..]) == le_u32(frame, len - 4)
}

/// The records' encodings in a whole chunk frame at the start of `bytes`,
/// checked (CRC, lengths) before anything is decompressed.
pub fn open_chunk(bytes: &[u8]) -> Result<(ChunkHead, Vec<u8>), String> {
    let head = chunk_head(bytes).ok_or("not a chunk frame (magic or lengths)")?;
    if bytes.len() < head.frame_len() {
        return Err("the chunk frame is cut short".into());
    }
    if !chunk_intact(&head, bytes) {
        return Err("chunk checksum mismatch".into());
    }
    let payload = &bytes[head.head_len()..head.frame_len()];
    let mut raw = vec![0u8; head.raw_len as usize];
    let n = lz4_flex::block::decompress_into(payload, &mut raw)
        .map_err(|e| format!("chunk does not decompress: {e}"))?;
    if n != raw.len() {
        return Err(format!(
            "chunk decompresses to {n} bytes, not {}",
            raw.len()
        ));
    }
    Ok((head, raw))
}

/// Frames a meta or end body behind `magic`.
fn tagged(magic: [u8; 8], body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(TAGGED_HEAD + body.len());
    out.extend_from_slice(&magic);
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(body).to_le_bytes());
    out.extend_from_slice(body);
    out
}

/// The body's length if `bytes` starts with a plausible `magic` frame.
pub fn tagged_len(bytes: &[u8], magic: [u8; 8]) -> Option<usize> {
    if bytes.len() < TAGGED_HEAD || bytes[..8] != magic {
        return None;
    }
    let len = le_u32(bytes, 8);
    (len <= MAX_TAGGED_BODY).then_some(len as usize)
}

/// The checked body of a whole `magic` frame at the start of `bytes`.
fn open_tagged(bytes: &[u8], magic: [u8; 8]) -> Option<&[u8]> {
    let len = tagged_len(bytes, magic)?;
    let body = bytes.get(TAGGED_HEAD..TAGGED_HEAD + len)?;
    (crc32fast::hash(body) == le_u32(bytes, 12)).then_some(body)
}

pub fn meta_frame(meta: &MetaBody) -> Vec<u8> {
    tagged(META_MAGIC, &encode_value(meta))
}

pub fn end_frame(end: &EndBody) -> Vec<u8> {
    tagged(END_MAGIC, &encode_value(end))
}

pub fn open_meta(bytes: &[u8]) -> Option<MetaBody> {
    decode_value(open_tagged(bytes, META_MAGIC)?).ok()
}

pub fn open_end(bytes: &[u8]) -> Option<EndBody> {
    decode_value(open_tagged(bytes, END_MAGIC)?).ok()
}

/// A chunk frame as pacsim-log/4 wrote it (tests of reading old logs).
#[cfg(test)]
pub fn chunk_v4(first_seq: u64, count: u32, raw: &[u8]) -> Vec<u8> {
    let payload = lz4_flex::block::compress(raw);
    let mut frame = CHUNK_MAGIC_V4.to_vec();
    frame.extend_from_slice(&first_seq.to_le_bytes());
    frame.extend_from_slice(&count.to_le_bytes());
    frame.extend_from_slice(&(raw.len() as u32).to_le_bytes());
    frame.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    let crc = chunk_crc(&frame[8..28], &payload);
    frame.extend_from_slice(&crc.to_le_bytes());
    frame.extend_from_slice(&payload);
    frame
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chunk_frame_round_trips_and_any_flipped_byte_is_refused() {
        let raw: Vec<u8> = (0..5_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        let mut frame = Vec::new();
        chunk_into(1_234, SimTime(99), 77, &raw, &mut frame);
        let (head, back) = open_chunk(&frame).unwrap();
        assert_eq!(
            (head.first_seq, head.base_at, head.count, head.encoding),
            (1_234, SimTime(99), 77, Encoding::Delta)
        );
        assert_eq!(back, raw);
        for at in 0..frame.len() {
            let mut bad = frame.clone();
            bad[at] ^= 0x10;
            assert!(open_chunk(&bad).is_err(), "flip at {at} accepted");
        }
        for len in 0..frame.len() {
            assert!(open_chunk(&frame[..len]).is_err(), "cut at {len} accepted");
        }
    }

    /// A frame as pacsim-log/4 wrote it still opens, as bincode records.
    #[test]
    fn a_version_4_chunk_frame_still_opens() {
        let raw = b"records of a pacsim-log/4 chunk".repeat(40);
        let mut frame = chunk_v4(7, 3, &raw);
        let (head, back) = open_chunk(&frame).unwrap();
        assert_eq!(
            (
                head.first_seq,
                head.base_at,
                head.count,
                head.encoding,
                head.head_len()
            ),
            (7, SimTime::ZERO, 3, Encoding::Bincode, 32)
        );
        assert_eq!(back, raw);
        frame[40] ^= 1;
        assert!(open_chunk(&frame).is_err());
    }

    #[test]
    fn meta_and_end_frames_round_trip() {
        let meta = MetaBody {
            format: "pacsim-log/5".into(),
            scenario: "seed: 1\n".into(),
            seed: 9,
            pacsim_version: "0.1.0".into(),
        };
        assert_eq!(open_meta(&meta_frame(&meta)), Some(meta.clone()));
        let end = EndBody {
            records: 12,
            digest: [7; 32],
        };
        let mut frame = end_frame(&end);
        assert_eq!(open_end(&frame), Some(end));
        frame[20] ^= 1;
        assert_eq!(open_end(&frame), None);
        assert_eq!(open_meta(&end_frame(&end)), None, "magics differ");
    }
}
