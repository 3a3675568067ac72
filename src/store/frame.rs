//! Self-describing values (log format `pacsim-log/4`): every chunk of
//! records, the log's identity and its end are stored in sled as frames
//! that carry a magic, their own lengths and a CRC. sled reads them back
//! as usual; when sled cannot (a damaged page, a full disk that refuses
//! even an open), `--salvage` finds the frames by scanning the database's
//! files read-only ([`super::salvage`]), and a damaged frame costs only
//! its own records.
//!
//! A chunk frame: `PSLCHNK4`, first seq (u64), record count (u32), raw
//! length (u32), payload length (u32), CRC-32 of the 20 bytes before it
//! and the payload, then the payload (the records' encodings, lz4 block
//! format). All integers little-endian.

use super::codec::{decode_value, encode_value};
use serde::{Deserialize, Serialize};

pub const CHUNK_MAGIC: [u8; 8] = *b"PSLCHNK4";
pub const META_MAGIC: [u8; 8] = *b"PSLMETA4";
pub const END_MAGIC: [u8; 8] = *b"PSLEND04";

/// Magic, first seq, count, raw length, payload length, CRC.
pub const CHUNK_HEAD: usize = 8 + 8 + 4 + 4 + 4 + 4;

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
    pub count: u32,
    pub raw_len: u32,
    pub payload_len: u32,
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

/// Frames `raw` (the encodings of `count` records from `first_seq` on)
/// into `out`, compressed; `out` is reused by the writer thread.
pub fn chunk_into(first_seq: u64, count: u32, raw: &[u8], out: &mut Vec<u8>) {
    out.clear();
    out.resize(
        CHUNK_HEAD + lz4_flex::block::get_maximum_output_size(raw.len()),
        0,
    );
    let written = lz4_flex::block::compress_into(raw, &mut out[CHUNK_HEAD..])
        .expect("the buffer is sized by get_maximum_output_size");
    out.truncate(CHUNK_HEAD + written);
    let head = ChunkHead {
        first_seq,
        count,
        raw_len: raw.len() as u32,
        payload_len: written as u32,
    };
    out[..8].copy_from_slice(&CHUNK_MAGIC);
    out[8..16].copy_from_slice(&head.first_seq.to_le_bytes());
    out[16..20].copy_from_slice(&head.count.to_le_bytes());
    out[20..24].copy_from_slice(&head.raw_len.to_le_bytes());
    out[24..28].copy_from_slice(&head.payload_len.to_le_bytes());
    let crc = chunk_crc(&out[8..28], &out[CHUNK_HEAD..]);
    out[28..32].copy_from_slice(&crc.to_le_bytes());
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

/// The header at the start of `bytes` if it is a plausible chunk frame
/// (its payload may still be cut short or damaged).
pub fn chunk_head(bytes: &[u8]) -> Option<ChunkHead> {
    if bytes.len() < CHUNK_HEAD || bytes[..8] != CHUNK_MAGIC {
        return None;
    }
    let head = ChunkHead {
        first_seq: le_u64(bytes, 8),
        count: le_u32(bytes, 16),
        raw_len: le_u32(bytes, 20),
        payload_len: le_u32(bytes, 24),
    };
    let plausible = head.count > 0
        && head.raw_len <= MAX_RAW_CHUNK
        && head.payload_len as usize
            <= lz4_flex::block::get_maximum_output_size(head.raw_len as usize);
    plausible.then_some(head)
}

/// The records' encodings in a whole chunk frame at the start of `bytes`,
/// checked (CRC, lengths) before anything is decompressed.
pub fn open_chunk(bytes: &[u8]) -> Result<(ChunkHead, Vec<u8>), String> {
    let head = chunk_head(bytes).ok_or("not a chunk frame (magic or lengths)")?;
    let end = CHUNK_HEAD + head.payload_len as usize;
    let payload = bytes
        .get(CHUNK_HEAD..end)
        .ok_or("the chunk frame is cut short")?;
    if chunk_crc(&bytes[8..28], payload) != le_u32(bytes, 28) {
        return Err("chunk checksum mismatch".into());
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chunk_frame_round_trips_and_any_flipped_byte_is_refused() {
        let raw: Vec<u8> = (0..5_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        let mut frame = Vec::new();
        chunk_into(1_234, 77, &raw, &mut frame);
        let (head, back) = open_chunk(&frame).unwrap();
        assert_eq!((head.first_seq, head.count), (1_234, 77));
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

    #[test]
    fn meta_and_end_frames_round_trip() {
        let meta = MetaBody {
            format: "pacsim-log/4".into(),
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
