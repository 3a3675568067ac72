//! The record encoding: bincode with variable-length integers (small ids and
//! times take one or a few bytes), little-endian. Every byte that is hashed
//! or persisted goes through here, so swapping the codec is a change to this
//! file alone (and a new log format version).

use crate::event::{Event, Record, RecordRef};
use crate::model::Resources;
use bincode::Options;

/// The name of this encoding, written into trace headers so that a reader can
/// refuse records it would misread.
pub const RECORD_ENCODING: &str = "bincode1-varint-le";

fn options() -> impl Options {
    bincode::DefaultOptions::new()
        .with_varint_encoding()
        .with_little_endian()
}

/// Appends the encoding of `record` to `out`: exactly bincode's bytes.
///
/// The hot event kinds are written by hand (bincode's generic writer costs
/// about 200 instructions per record here); everything else goes through
/// bincode. `tests::hand_encoding_is_byte_identical_to_bincode` holds the
/// two together for every variant.
#[inline]
pub fn encode_into(out: &mut Vec<u8>, record: &RecordRef<'_>) {
    let start = out.len();
    out.resize(start + SCRATCH_BYTES, 0);
    let window: &mut [u8; SCRATCH_BYTES] = (&mut out[start..])
        .try_into()
        .expect("resized to exactly SCRATCH_BYTES past start");
    let mut s = Scratch {
        bytes: window,
        len: 0,
    };
    s.varint(record.seq);
    s.varint(record.at.0);
    s.varint(record.from.0 as u64);
    s.varint(record.to.0 as u64);
    match record.cause {
        None => s.byte(0),
        Some(c) => {
            s.byte(1);
            s.varint(c);
        }
    }
    // Variant indices are the declaration order of `Event`.
    match *record.event {
        Event::VmRequested { vm, size } => {
            s.byte(1);
            s.varint(vm.0);
            s.resources(&size);
        }
        Event::VmDeleteRequested { vm } => {
            s.byte(2);
            s.varint(vm.0);
        }
        Event::VmPowerOn {
            vm,
            size,
            incarnation,
        } => {
            s.byte(5);
            s.varint(vm.0);
            s.resources(&size);
            s.varint(incarnation as u64);
        }
        Event::VmPowerOff { vm } => {
            s.byte(6);
            s.varint(vm.0);
        }
        ref other => {
            let header = s.len;
            out.truncate(start + header);
            options()
                .serialize_into(out, other)
                .expect("events always encode into a Vec");
            return;
        }
    }
    let len = s.len;
    out.truncate(start + len);
}

/// The largest hand-encoded record: at most 9 varints of at most 9 bytes,
/// an option tag and a variant tag.
const SCRATCH_BYTES: usize = 96;

/// One record being encoded, written straight into the output's tail (a
/// zeroed window of the largest size, cut to the real length afterwards).
/// Pushing into the `Vec` byte by byte paid a capacity check and a length
/// store per byte; encoding on the stack and copying the window over made
/// the copy's wide loads wait for the narrow stores still in flight.
struct Scratch<'a> {
    bytes: &'a mut [u8; SCRATCH_BYTES],
    len: usize,
}

impl Scratch<'_> {
    #[inline(always)]
    fn byte(&mut self, b: u8) {
        self.bytes[self.len] = b;
        self.len += 1;
    }

    #[inline(always)]
    fn put<const N: usize>(&mut self, marker: u8, le: [u8; N]) {
        self.byte(marker);
        self.bytes[self.len..self.len + N].copy_from_slice(&le);
        self.len += N;
    }

    /// bincode's varint: values up to 250 in one byte, else a marker byte
    /// (251, 252, 253) and the value as little-endian u16, u32 or u64.
    #[inline(always)]
    fn varint(&mut self, n: u64) {
        if n <= 250 {
            self.byte(n as u8);
        } else if n <= u16::MAX as u64 {
            self.put(251, (n as u16).to_le_bytes());
        } else if n <= u32::MAX as u64 {
            self.put(252, (n as u32).to_le_bytes());
        } else {
            self.put(253, n.to_le_bytes());
        }
    }

    #[inline(always)]
    fn resources(&mut self, r: &Resources) {
        self.varint(r.cpu_millis);
        self.varint(r.memory_bytes);
        self.varint(r.gpu_millis);
    }
}

/// The largest chunk a reader decompresses: a full chunk is 64 KiB plus
/// its last record, and no record comes near this. A length past it is
/// damage, never an allocation.
pub const MAX_RAW_CHUNK: u32 = 64 << 20;

/// Compresses a chunk of encoded records for storage into `out` (lz4 block
/// format, uncompressed length prepended, as `lz4_flex::compress_prepend_size`
/// writes it; `out` is reused so the writer thread allocates once). Records
/// compress well: consecutive seqs, nearby times, few distinct actors.
pub fn compress_chunk_into(chunk: &[u8], out: &mut Vec<u8>) {
    let header = (chunk.len() as u32).to_le_bytes();
    out.clear();
    out.extend_from_slice(&header);
    out.resize(
        header.len() + lz4_flex::block::get_maximum_output_size(chunk.len()),
        0,
    );
    let written = lz4_flex::block::compress_into(chunk, &mut out[header.len()..])
        .expect("the buffer is sized by get_maximum_output_size");
    out.truncate(header.len() + written);
}

/// The inverse of [`compress_chunk_into`] (logs before pacsim-log/4). The
/// prepended length is checked before it sizes anything: a damaged one
/// must not ask for gigabytes.
pub fn decompress_chunk(stored: &[u8]) -> Result<Vec<u8>, String> {
    let claimed = stored
        .get(..4)
        .map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")))
        .ok_or("chunk is shorter than its length prefix")?;
    if claimed > MAX_RAW_CHUNK {
        return Err(format!(
            "chunk claims {claimed} bytes, more than any chunk holds"
        ));
    }
    lz4_flex::decompress_size_prepended(stored)
        .map_err(|e| format!("chunk does not decompress: {e}"))
}

/// Decodes one record from the front of `bytes`, returning it and the number
/// of bytes it took.
pub fn decode_one(bytes: &[u8]) -> Result<(Record, usize), bincode::Error> {
    let mut cursor = std::io::Cursor::new(bytes);
    // A record cannot take more bytes than there are: the limit makes a
    // damaged string or list length an error before bincode allocates it.
    let record: Record = options()
        .with_limit(bytes.len() as u64)
        .deserialize_from(&mut cursor)?;
    Ok((record, cursor.position() as usize))
}

/// Encodes any serde value with the same options (for headers and meta).
pub fn encode_value<T: serde::Serialize>(value: &T) -> Vec<u8> {
    options()
        .serialize(value)
        .expect("values always encode into a Vec")
}

pub fn decode_value<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, bincode::Error> {
    options().with_limit(bytes.len() as u64).deserialize(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ActorId, HostId, SimTime, VmId};

    fn every_variant(n: u64) -> Vec<Event> {
        let size = Resources::new(n.wrapping_mul(1000), n.wrapping_shl(30), (n % 5) * 250);
        let vm = VmId(n);
        vec![
            Event::Start,
            Event::VmRequested { vm, size },
            Event::VmDeleteRequested { vm },
            Event::VmRejected { vm },
            Event::VmLost { vm },
            Event::VmPowerOn {
                vm,
                size,
                incarnation: n as u32,
            },
            Event::VmPowerOff { vm },
            Event::HostCrash,
            Event::HostRepair,
            Event::FailureTimer {
                generation: n as u32,
            },
            Event::RepairTimer {
                generation: n as u32,
            },
            Event::HostDown {
                host: HostId(n as u32),
            },
            Event::HostUp {
                host: HostId(n as u32),
                incarnation: 7,
            },
            Event::MaintenanceBegin {
                host: HostId(n as u32),
            },
            Event::MaintenanceEnd {
                host: HostId(n as u32),
            },
            Event::HostIsolated { power_off: true },
            Event::HostReconnected { fenced: false },
            Event::HostUnreachable {
                host: HostId(n as u32),
            },
            Event::HaRestart { batch: n },
            Event::VmRequestedWithPriority {
                vm,
                size,
                priority: 2,
            },
            Event::VmRefused {
                vm,
                reason: crate::event::RejectReason::HaAdmission,
            },
            Event::VmRefused {
                vm,
                reason: crate::event::RejectReason::DrsRule { rule: n as u16 },
            },
            Event::VmRefused {
                vm,
                reason: crate::event::RejectReason::ResourcePoolReservation { pool: n as u16 },
            },
        ]
    }

    /// Values around every varint boundary, for every field and variant.
    #[test]
    fn hand_encoding_is_byte_identical_to_bincode() {
        let edges = [
            0u64,
            1,
            250,
            251,
            255,
            65_535,
            65_536,
            u32::MAX as u64,
            u32::MAX as u64 + 1,
            u64::MAX >> 1,
        ];
        for &n in &edges {
            for event in every_variant(n) {
                for cause in [None, Some(n)] {
                    let record = RecordRef {
                        seq: n,
                        at: SimTime(n.wrapping_mul(3)),
                        from: ActorId(n as u32),
                        to: ActorId((n >> 3) as u32),
                        cause,
                        event: &event,
                    };
                    let mut fast = Vec::new();
                    encode_into(&mut fast, &record);
                    let slow = options().serialize(&record).unwrap();
                    assert_eq!(fast, slow, "{event:?} with n = {n}");
                    let (back, used) = decode_one(&fast).unwrap();
                    assert_eq!(used, fast.len());
                    assert_eq!(back.event, event);
                }
            }
        }
    }

    #[test]
    fn chunk_compression_writes_lz4_flex_bytes_into_a_reused_buffer() {
        let mut out = vec![0xAA; 3];
        for chunk in [
            Vec::new(),
            b"pacsim".to_vec(),
            (0..200_000u32)
                .flat_map(|i| (i / 7).to_le_bytes())
                .collect(),
        ] {
            compress_chunk_into(&chunk, &mut out);
            assert_eq!(out, lz4_flex::compress_prepend_size(&chunk));
            assert_eq!(decompress_chunk(&out).unwrap(), chunk);
        }
    }
}
