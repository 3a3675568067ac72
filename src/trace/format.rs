//! The bytes of a trace file. All integers are little-endian.
//!
//! ```text
//! header   magic "PSTRACE\0" (8) | version u16 | body_len u32 | body_crc u32 | body
//! body     seed u64 | str pacsim_version | str digest_algorithm
//!          | str record_encoding | str scenario_text      (str = u32 len + UTF-8)
//! frame    len u32 | crc u32 | payload (len bytes)
//!          crc = crc32 (IEEE, crc32fast) of the 4 len bytes then the payload
//! payload  kind u8 = 1 (records) | count u32 | count encoded records
//!          kind u8 = 2 (footer)  | records u64 | digest [32]
//! ```
//!
//! The footer is the last frame; nothing may follow it. Records are whole in
//! one frame, so a damaged frame loses only its own records.

use std::path::PathBuf;

pub const MAGIC: &[u8; 8] = b"PSTRACE\0";
pub const FORMAT_VERSION: u16 = 1;
pub const DIGEST_ALGORITHM: &str = "blake3";
/// magic + version + body_len + body_crc.
pub const HEADER_PREFIX_BYTES: usize = 8 + 2 + 4 + 4;
/// len + crc in front of every frame payload.
pub const FRAME_HEAD_BYTES: usize = 8;
/// A records frame is closed once its payload passes this size.
pub const FRAME_TARGET_BYTES: usize = 64 * 1024;
/// Larger lengths are damage, not data: a writer never makes frames this big
/// (one record is far smaller than the slack), so a reader never allocates
/// for a garbage length.
pub const FRAME_MAX_BYTES: u32 = 16 << 20;
/// Header bodies are small (the scenario text dominates).
pub const HEADER_MAX_BYTES: u32 = 16 << 20;
pub const KIND_RECORDS: u8 = 1;
pub const KIND_FOOTER: u8 = 2;
/// kind + records + digest.
pub const FOOTER_PAYLOAD_BYTES: usize = 1 + 8 + 32;
/// kind + count, before the records of a records frame.
pub const RECORDS_PAYLOAD_HEAD: usize = 1 + 4;
/// The fewest bytes a record encodes to (`store/codec.rs`): in the delta
/// encoding, one byte each for the tag, the time step, from and to, and
/// the event (`VmPowerOff` of a small id, or `Event::Start` in bincode);
/// bincode takes six. A frame whose count claims more records than its
/// bytes can hold is damage, so a reader never sizes anything by a count
/// it was told.
pub const MIN_RECORD_BYTES: usize = 5;

/// What the header says about the run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceHeader {
    pub seed: u64,
    pub pacsim_version: String,
    pub digest_algorithm: String,
    pub record_encoding: String,
    pub scenario: String,
}

impl TraceHeader {
    /// A header for records made by this build of pacsim.
    pub fn new(scenario: &str, seed: u64) -> Self {
        TraceHeader {
            seed,
            pacsim_version: env!("CARGO_PKG_VERSION").to_string(),
            digest_algorithm: DIGEST_ALGORITHM.to_string(),
            record_encoding: crate::store::codec::Encoding::CURRENT.name().to_string(),
            scenario: scenario.to_string(),
        }
    }

    /// The header bytes, magic to end of body.
    pub fn encode(&self) -> Vec<u8> {
        let mut body = Vec::with_capacity(64 + self.scenario.len());
        body.extend_from_slice(&self.seed.to_le_bytes());
        for s in [
            &self.pacsim_version,
            &self.digest_algorithm,
            &self.record_encoding,
            &self.scenario,
        ] {
            body.extend_from_slice(&(s.len() as u32).to_le_bytes());
            body.extend_from_slice(s.as_bytes());
        }
        let mut out = Vec::with_capacity(HEADER_PREFIX_BYTES + body.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&(body.len() as u32).to_le_bytes());
        out.extend_from_slice(&crc32fast::hash(&body).to_le_bytes());
        out.extend_from_slice(&body);
        out
    }

    /// Parses a header body whose checksum already matched.
    pub fn decode_body(body: &[u8]) -> Result<Self, String> {
        let mut cur = Cursor { bytes: body, at: 0 };
        let seed = u64::from_le_bytes(cur.take(8)?.try_into().expect("8 bytes"));
        let mut string = |what: &str| -> Result<String, String> {
            let len = u32::from_le_bytes(cur.take(4)?.try_into().expect("4 bytes"));
            let bytes = cur.take(len as usize)?;
            String::from_utf8(bytes.to_vec()).map_err(|_| format!("{what} is not UTF-8"))
        };
        let header = TraceHeader {
            seed,
            pacsim_version: string("pacsim version")?,
            digest_algorithm: string("digest algorithm")?,
            record_encoding: string("record encoding")?,
            scenario: string("scenario text")?,
        };
        if cur.at != body.len() {
            return Err(format!(
                "{} unexpected bytes at its end",
                body.len() - cur.at
            ));
        }
        Ok(header)
    }
}

struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or_else(|| format!("a field of {n} bytes runs past the end of the body"))?;
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }
}

/// The checksum of a frame: over its length bytes and its payload, so a
/// damaged length is caught even when it still points inside the file.
pub fn frame_crc(len: u32, payload: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&len.to_le_bytes());
    h.update(payload);
    h.finalize()
}

/// The footer frame, head included.
pub fn footer_frame(records: u64, digest: &[u8; 32]) -> Vec<u8> {
    let mut payload = Vec::with_capacity(FOOTER_PAYLOAD_BYTES);
    payload.push(KIND_FOOTER);
    payload.extend_from_slice(&records.to_le_bytes());
    payload.extend_from_slice(digest);
    let len = payload.len() as u32;
    let mut out = Vec::with_capacity(FRAME_HEAD_BYTES + payload.len());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&frame_crc(len, &payload).to_le_bytes());
    out.extend_from_slice(&payload);
    out
}

/// What is wrong with a damaged trace (for tests and for salvage messages).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Damage {
    /// The file ends inside a frame (or before the footer).
    Truncated,
    /// A frame's checksum does not match its bytes.
    Checksum,
    /// A frame length no writer makes.
    Length,
    /// A checksummed frame whose content is not what a writer makes.
    Content,
    /// Bytes after the footer.
    Trailing,
    /// The footer's count or digest disagrees with the records.
    Footer,
}

#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a pacsim trace (it does not start with `PSTRACE\\0`)")]
    NotATrace { path: PathBuf },
    #[error("{path} is trace format version {found}; this pacsim reads version {FORMAT_VERSION}")]
    Version { path: PathBuf, found: u16 },
    #[error("{path}: damaged header at byte {offset}: {reason}")]
    Header {
        path: PathBuf,
        offset: u64,
        reason: String,
    },
    #[error("{path}: damaged trace at byte {offset} (frame {frame}, record #{record}): {reason}")]
    Damaged {
        path: PathBuf,
        /// Where the damaged frame starts (or where the missing one should).
        offset: u64,
        /// 0-based frame number, header not counted.
        frame: u64,
        /// The seq of the first record that could not be read.
        record: u64,
        damage: Damage,
        reason: String,
    },
}

impl TraceError {
    /// The damage kind, when the error is damage after a good header.
    pub fn damage(&self) -> Option<Damage> {
        match self {
            TraceError::Damaged { damage, .. } => Some(*damage),
            _ => None,
        }
    }

    /// The byte offset the error names, if any.
    pub fn offset(&self) -> Option<u64> {
        match self {
            TraceError::Header { offset, .. } | TraceError::Damaged { offset, .. } => Some(*offset),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_smallest_record_takes_min_record_bytes() {
        use crate::store::codec::{Decoder, Encoder, Encoding};
        let start = crate::event::Event::Start;
        let record = crate::event::RecordRef {
            seq: 0,
            at: crate::model::SimTime(0),
            from: crate::model::ActorId(0),
            to: crate::model::ActorId(0),
            cause: None,
            event: &start,
        };
        for (encoding, fewest) in [(Encoding::Delta, MIN_RECORD_BYTES), (Encoding::Bincode, 6)] {
            let mut bytes = Vec::new();
            Encoder::new(encoding).encode_into(&mut bytes, &record);
            assert_eq!(bytes.len(), fewest, "{encoding:?}");
            // Any shorter prefix does not decode.
            for len in 0..fewest {
                let mut decoder = Decoder::new(encoding, 0, crate::model::SimTime::ZERO);
                assert!(decoder.decode_one(&bytes[..len]).is_err());
            }
        }
    }

    #[test]
    fn a_header_reads_back_as_written() {
        let h = TraceHeader::new("name: x\n", 7);
        let bytes = h.encode();
        assert_eq!(&bytes[..8], MAGIC);
        assert_eq!(
            TraceHeader::decode_body(&bytes[HEADER_PREFIX_BYTES..]),
            Ok(h)
        );
    }

    #[test]
    fn any_cut_or_extended_header_body_is_an_error_not_a_panic() {
        let body = TraceHeader::new("name: x\n", 7).encode()[HEADER_PREFIX_BYTES..].to_vec();
        for len in 0..body.len() {
            assert!(
                TraceHeader::decode_body(&body[..len]).is_err(),
                "cut at {len}"
            );
        }
        let mut longer = body.clone();
        longer.push(0);
        assert!(TraceHeader::decode_body(&longer).is_err());
        let mut huge = body;
        huge[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(TraceHeader::decode_body(&huge).is_err());
    }
}
