//! The record encodings. Every byte that is hashed or persisted goes
//! through here, so a new encoding is a change to this file (and a new log
//! format version); the older ones stay readable.
//!
//! - [`Encoding::Delta`], what pacsim writes: a record leaves its seq out
//!   (its position in the stream implies it), writes its time as the step
//!   from the record before and its cause as the distance back to it, and
//!   every integer as a prefix varint: LEB128's sizes (seven bits a byte),
//!   with the length in the first byte's low bits, so that an integer is
//!   written as one word (a LEB128 loop cost the simulation's thread about
//!   60 instructions a record more than bincode). The four VM-life kinds,
//!   nearly every record of a large run, are written field by field; any
//!   other event follows in bincode, which names its own variant. Because
//!   of the steps, a record decodes only after the ones before it: a chunk
//!   carries the time its first step starts from ([`Encoder::base_at`]).
//! - [`Encoding::Bincode`], what logs up to `pacsim-log/4` and the first
//!   traces hold: bincode with variable-length integers, little-endian,
//!   every field whole.

use crate::event::{Event, Record, RecordRef};
use crate::model::{ActorId, Resources, SimTime};
use bincode::Options;
use std::mem::MaybeUninit;

/// A record encoding, named in a trace's header and implied by a log's
/// format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Bincode,
    Delta,
}

impl Encoding {
    /// What this build writes.
    pub const CURRENT: Encoding = Encoding::Delta;

    pub fn name(self) -> &'static str {
        match self {
            Encoding::Bincode => "bincode1-varint-le",
            Encoding::Delta => "delta1-prefix-varint",
        }
    }

    pub fn named(name: &str) -> Option<Self> {
        [Encoding::Bincode, Encoding::Delta]
            .into_iter()
            .find(|e| e.name() == name)
    }
}

fn options() -> impl Options {
    bincode::DefaultOptions::new()
        .with_varint_encoding()
        .with_little_endian()
}

// A delta record's first byte: its kind in the high bits, how its time and
// its cause are written in the low three.
const AT_ABSOLUTE: u8 = 0b100;
const CAUSE_NONE: u8 = 0b00;
const CAUSE_BACK: u8 = 0b01;
const CAUSE_ABSOLUTE: u8 = 0b10;
const CAUSE_BITS: u8 = 0b11;
const KIND_SHIFT: u8 = 3;
// The kinds of record, in the delta encoding's tag and the hand-off form.
/// Any event but the four below: its bincode encoding follows.
pub(super) const KIND_OTHER: u8 = 0;
pub(super) const KIND_VM_REQUESTED: u8 = 1;
pub(super) const KIND_VM_DELETE_REQUESTED: u8 = 2;
pub(super) const KIND_VM_POWER_ON: u8 = 3;
pub(super) const KIND_VM_POWER_OFF: u8 = 4;

/// Memory is written as whole MiB and the bytes left over (nearly always
/// none, one byte), which is shorter than the byte count and still exact.
const MIB_SHIFT: u32 = 20;

/// Encodes a stream of records; it remembers the last record's time, from
/// which the next one's is written as a step.
#[derive(Clone, Copy, Debug)]
pub struct Encoder {
    encoding: Encoding,
    prev_at: u64,
}

impl Encoder {
    /// An encoder for a stream's first record.
    pub fn new(encoding: Encoding) -> Self {
        Encoder {
            encoding,
            prev_at: 0,
        }
    }

    /// The time the next record's step starts from: what a chunk that
    /// begins with the next record carries, to be decoded on its own.
    pub fn base_at(&self) -> SimTime {
        SimTime(self.prev_at)
    }

    /// Appends the encoding of `record`, the stream's next, to `out`.
    #[inline]
    pub fn encode_into(&mut self, out: &mut Vec<u8>, record: &RecordRef<'_>) {
        match self.encoding {
            Encoding::Delta => self.delta_into(out, record),
            Encoding::Bincode => bincode_into(out, record),
        }
    }

    /// The delta encoding.
    #[inline]
    fn delta_into(&mut self, out: &mut Vec<u8>, record: &RecordRef<'_>) {
        let at = record.at.0;
        let (at_flag, at_field) = match at.checked_sub(self.prev_at) {
            Some(step) => (0, step),
            None => (AT_ABSOLUTE, at),
        };
        self.prev_at = at;
        let (cause_flag, cause_field) = match record.cause {
            None => (CAUSE_NONE, 0),
            Some(c) if c < record.seq => (CAUSE_BACK, record.seq - c),
            Some(c) => (CAUSE_ABSOLUTE, c),
        };
        write_record(out, |s| {
            // The tag goes first but the kind is known only in the match.
            s.byte(0);
            s.prefixed(at_field);
            s.prefixed(record.from.0 as u64);
            s.prefixed(record.to.0 as u64);
            if cause_flag != CAUSE_NONE {
                s.prefixed(cause_field);
            }
            let kind = match *record.event {
                Event::VmRequested { vm, size } => {
                    s.prefixed(vm.0);
                    s.prefixed_resources(&size);
                    KIND_VM_REQUESTED
                }
                Event::VmDeleteRequested { vm } => {
                    s.prefixed(vm.0);
                    KIND_VM_DELETE_REQUESTED
                }
                Event::VmPowerOn {
                    vm,
                    size,
                    incarnation,
                } => {
                    s.prefixed(vm.0);
                    s.prefixed_resources(&size);
                    s.prefixed(incarnation as u64);
                    KIND_VM_POWER_ON
                }
                Event::VmPowerOff { vm } => {
                    s.prefixed(vm.0);
                    KIND_VM_POWER_OFF
                }
                _ => KIND_OTHER,
            };
            s.bytes[0].write(kind << KIND_SHIFT | at_flag | cause_flag);
            (kind == KIND_OTHER).then_some(record.event)
        });
    }
}

/// Appends the bincode encoding of `record` to `out`: exactly bincode's
/// bytes (the hot kinds written by hand; `tests` holds the two together).
fn bincode_into(out: &mut Vec<u8>, record: &RecordRef<'_>) {
    write_record(out, |s| {
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
            _ => return Some(record.event),
        }
        None
    });
}

/// Runs `write` on a window at `out`'s end and keeps the bytes it wrote;
/// when it returns an event, that event's bincode encoding follows them.
#[inline(always)]
pub(super) fn write_record<'e>(
    out: &mut Vec<u8>,
    write: impl FnOnce(&mut Scratch<'_>) -> Option<&'e Event>,
) {
    let start = out.len();
    out.reserve(SCRATCH_BYTES);
    let window: &mut [MaybeUninit<u8>; SCRATCH_BYTES] = (&mut out.spare_capacity_mut()
        [..SCRATCH_BYTES])
        .try_into()
        .expect("reserved SCRATCH_BYTES past the end");
    let mut s = Scratch {
        bytes: window,
        len: 0,
    };
    let rest = write(&mut s);
    let len = s.len;
    assert!(len <= SCRATCH_BYTES);
    // SAFETY: the window starts at `out`'s end and `Scratch` writes every
    // byte below `len` before moving `len` past it (`byte`, `fixed` and
    // `word` all write from the old `len` on, and nothing else moves it),
    // so `start..start + len` is initialised, and `len` is within the
    // reserved capacity.
    unsafe { out.set_len(start + len) };
    if let Some(event) = rest {
        options()
            .serialize_into(out, event)
            .expect("events always encode into a Vec");
    }
}

/// The largest hand-encoded record: in bincode, at most 9 varints of at
/// most 9 bytes, an option tag and a variant tag (83 bytes); in the delta
/// encoding, `VmPowerOn`'s tag byte and ten integers of at most 9 bytes,
/// of which the actors and the incarnation take at most 5, the whole MiB
/// 7 and the spare bytes 3 (71 bytes). Each integer is stored as a whole
/// word from its start, so the delta encoding writes up to byte 78. The
/// hand-off form's longest record, a power-on, takes 61.
const SCRATCH_BYTES: usize = 96;

/// One record being encoded, written straight into the output's spare
/// capacity (a window of the largest size, of which the written bytes are
/// kept). Pushing into the `Vec` byte by byte paid a capacity check and a
/// length store per byte; encoding on the stack and copying the window
/// over made the copy's wide loads wait for the narrow stores still in
/// flight; zeroing the window first cost about 30 instructions a record.
pub(super) struct Scratch<'a> {
    bytes: &'a mut [MaybeUninit<u8>; SCRATCH_BYTES],
    len: usize,
}

impl Scratch<'_> {
    #[inline(always)]
    pub(super) fn byte(&mut self, b: u8) {
        self.bytes[self.len].write(b);
        self.len += 1;
    }

    #[inline(always)]
    fn put<const N: usize>(&mut self, marker: u8, le: [u8; N]) {
        self.byte(marker);
        self.fixed(le);
    }

    /// Stores `le` whole.
    #[inline(always)]
    pub(super) fn fixed<const N: usize>(&mut self, le: [u8; N]) {
        self.bytes[self.len..self.len + N].write_copy_of_slice(&le);
        self.len += N;
    }

    /// A prefix varint: `n` shifted left by its length in bytes, that
    /// length marked by the lowest set bit (one byte for `n` under 2^7,
    /// two under 2^14, ..., eight under 2^56), stored as one word of which
    /// the first `len` bytes are kept; a zero byte and `n` whole from 2^56.
    /// The window has room for a whole word past any field.
    #[inline(always)]
    fn prefixed(&mut self, n: u64) {
        if n < 1 << 7 {
            self.byte((n as u8) << 1 | 1);
        } else if n < 1 << 56 {
            let len = PREFIX_LEN[n.leading_zeros() as usize];
            self.word((n << len) | 1 << (len - 1), len as usize);
        } else {
            self.byte(0);
            self.word(n, 8);
        }
    }

    /// Stores `v`'s eight bytes, little-endian, and keeps the first `len`.
    #[inline(always)]
    fn word(&mut self, v: u64, len: usize) {
        self.bytes[self.len..self.len + 8].write_copy_of_slice(&v.to_le_bytes());
        self.len += len;
    }

    #[inline(always)]
    fn prefixed_resources(&mut self, r: &Resources) {
        self.prefixed(r.cpu_millis);
        self.prefixed(r.memory_bytes >> MIB_SHIFT);
        self.prefixed(r.memory_bytes & ((1 << MIB_SHIFT) - 1));
        self.prefixed(r.gpu_millis);
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

/// A prefix varint's length by the leading zeros of its value: seven bits
/// a byte (a table: the division and the count cost more than the rest of
/// the write).
const PREFIX_LEN: [u32; 65] = {
    let mut table = [0; 65];
    let mut zeros = 0;
    while zeros <= 64 {
        table[zeros] = (64 - zeros as u32).div_ceil(7);
        zeros += 1;
    }
    table
};

/// Decodes a stream of records, or a chunk of one, from its first record
/// on: it knows the seq and the time the next record follows.
#[derive(Clone, Copy, Debug)]
pub struct Decoder {
    encoding: Encoding,
    next_seq: u64,
    prev_at: u64,
}

impl Decoder {
    /// A decoder for a stream (or chunk) whose first record is `first_seq`,
    /// its time a step from `base_at` (see [`Encoder::base_at`]).
    pub fn new(encoding: Encoding, first_seq: u64, base_at: SimTime) -> Self {
        Decoder {
            encoding,
            next_seq: first_seq,
            prev_at: base_at.0,
        }
    }

    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    /// The seq of the next record to decode.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Decodes the next record from the front of `bytes`, returning it and
    /// the number of bytes it took. A record that does not decode, or (in
    /// bincode, which writes it) carries another seq than the next one, is
    /// an error that says why.
    pub fn decode_one(&mut self, bytes: &[u8]) -> Result<(Record, usize), String> {
        let (record, used) = match self.encoding {
            Encoding::Bincode => decode_bincode(bytes).map_err(|e| e.to_string())?,
            Encoding::Delta => self.decode_delta(bytes)?,
        };
        if record.seq != self.next_seq {
            return Err(format!(
                "found seq {} where {} was due",
                record.seq, self.next_seq
            ));
        }
        self.next_seq = self.next_seq.wrapping_add(1);
        self.prev_at = record.at.0;
        Ok((record, used))
    }

    fn decode_delta(&self, bytes: &[u8]) -> Result<(Record, usize), String> {
        let mut r = PrefixReader { bytes, pos: 0 };
        let tag = r.byte()?;
        let seq = self.next_seq;
        let at = r.varint()?;
        let at = if tag & AT_ABSOLUTE != 0 {
            at
        } else {
            (self.prev_at.checked_add(at)).ok_or("its time is past the end of time")?
        };
        let from = ActorId(r.varint_u32()?);
        let to = ActorId(r.varint_u32()?);
        let cause = match tag & CAUSE_BITS {
            CAUSE_NONE => None,
            CAUSE_BACK => {
                let back = r.varint()?;
                Some(
                    seq.checked_sub(back)
                        .filter(|_| back > 0)
                        .ok_or("its cause lies before the first record")?,
                )
            }
            CAUSE_ABSOLUTE => Some(r.varint()?),
            _ => return Err(format!("record tag {tag:#04x} has no cause form 3")),
        };
        let event = match tag >> KIND_SHIFT {
            KIND_OTHER => {
                let (event, len) =
                    decode_event_prefix(&bytes[r.pos..]).map_err(|e| e.to_string())?;
                r.pos += len;
                event
            }
            KIND_VM_REQUESTED => Event::VmRequested {
                vm: crate::model::VmId(r.varint()?),
                size: r.resources()?,
            },
            KIND_VM_DELETE_REQUESTED => Event::VmDeleteRequested {
                vm: crate::model::VmId(r.varint()?),
            },
            KIND_VM_POWER_ON => Event::VmPowerOn {
                vm: crate::model::VmId(r.varint()?),
                size: r.resources()?,
                incarnation: r.varint_u32()?,
            },
            KIND_VM_POWER_OFF => Event::VmPowerOff {
                vm: crate::model::VmId(r.varint()?),
            },
            kind => return Err(format!("unknown record kind {kind}")),
        };
        let record = Record {
            seq,
            at: SimTime(at),
            from,
            to,
            cause,
            event,
        };
        Ok((record, r.pos))
    }
}

/// Reads prefix varints, refusing what runs off the end.
struct PrefixReader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl PrefixReader<'_> {
    fn byte(&mut self) -> Result<u8, String> {
        let b = *self.bytes.get(self.pos).ok_or("the record is cut short")?;
        self.pos += 1;
        Ok(b)
    }

    fn varint(&mut self) -> Result<u64, String> {
        let first = *self.bytes.get(self.pos).ok_or("the record is cut short")?;
        let (len, skip) = match first {
            0 => (8, 1),
            _ => (first.trailing_zeros() as usize + 1, 0),
        };
        let at = self.pos + skip;
        let bytes = self
            .bytes
            .get(at..at + len)
            .ok_or("the record is cut short")?;
        let mut word = [0u8; 8];
        word[..len].copy_from_slice(bytes);
        self.pos = at + len;
        let v = u64::from_le_bytes(word);
        Ok(if skip == 1 { v } else { v >> len })
    }

    fn varint_u32(&mut self) -> Result<u32, String> {
        let n = self.varint()?;
        u32::try_from(n).map_err(|_| format!("{n} is out of range for a 32-bit field"))
    }

    fn resources(&mut self) -> Result<Resources, String> {
        let cpu_millis = self.varint()?;
        let mib = self.varint()?;
        let spare = self.varint()?;
        let memory_bytes = (mib.checked_mul(1 << MIB_SHIFT))
            .filter(|_| spare < 1 << MIB_SHIFT)
            .map(|whole| whole | spare)
            .ok_or("a memory size is out of range")?;
        let gpu_millis = self.varint()?;
        Ok(Resources {
            cpu_millis,
            memory_bytes,
            gpu_millis,
        })
    }
}

/// The largest chunk a reader decompresses: a full chunk is 48 KiB plus
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

/// One bincode event from the front of `bytes`, and the bytes it took.
pub(super) fn decode_event_prefix(bytes: &[u8]) -> Result<(Event, usize), bincode::Error> {
    let mut cursor = std::io::Cursor::new(bytes);
    let event: Event = options()
        .with_limit(bytes.len() as u64)
        .deserialize_from(&mut cursor)?;
    Ok((event, cursor.position() as usize))
}

/// One bincode record from the front of `bytes`, and the bytes it took.
fn decode_bincode(bytes: &[u8]) -> Result<(Record, usize), bincode::Error> {
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
pub(super) mod tests {
    use super::*;
    use crate::model::{ActorId, HostId, SimTime, VmId};

    pub(in crate::store) fn every_variant(n: u64) -> Vec<Event> {
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
            crate::api::SupMsg::Reply {
                id: n,
                result: Ok(n),
            }
            .event(),
        ]
    }

    /// Values around every bincode varint and prefix varint boundary.
    const EDGES: [u64; 17] = [
        0,
        1,
        127,
        128,
        250,
        251,
        255,
        16_383,
        16_384,
        65_535,
        65_536,
        u32::MAX as u64,
        u32::MAX as u64 + 1,
        (1 << 56) - 1,
        1 << 56,
        u64::MAX >> 1,
        u64::MAX,
    ];

    /// Every variant with every field at `n`, each as a record `seq` of a
    /// stream, with no cause and with `cause`.
    fn records(n: u64, seq: u64, cause: u64) -> Vec<Record> {
        let mut out = Vec::new();
        for event in every_variant(n) {
            for cause in [None, Some(cause)] {
                out.push(Record {
                    seq,
                    at: SimTime(n.wrapping_mul(3)),
                    from: ActorId(n as u32),
                    to: ActorId((n >> 3) as u32),
                    cause,
                    event: event.clone(),
                });
            }
        }
        out
    }

    #[test]
    fn hand_encoding_is_byte_identical_to_bincode() {
        for &n in &EDGES {
            for mut record in records(n, n, n) {
                record.seq = n;
                let mut fast = Vec::new();
                Encoder::new(Encoding::Bincode).encode_into(&mut fast, &record.borrowed());
                let slow = options().serialize(&record).unwrap();
                assert_eq!(fast, slow, "{record:?}");
                let mut decoder = Decoder::new(Encoding::Bincode, n, SimTime::ZERO);
                assert_eq!(decoder.decode_one(&fast).unwrap(), (record, fast.len()));
            }
        }
    }

    /// A stream of every variant at every edge, its times going up and
    /// back, its causes behind, at and ahead of each record: decoded whole,
    /// and from any record on given that record's seq and base time.
    #[test]
    fn the_delta_encoding_round_trips_from_any_record_on() {
        let mut stream = Vec::new();
        for (i, &n) in EDGES.iter().enumerate() {
            for cause in [0, n, u64::MAX] {
                for mut record in records(n, 0, cause) {
                    record.seq = stream.len() as u64;
                    record.at = SimTime(n.wrapping_mul(i as u64 + 1) ^ (record.seq % 3));
                    stream.push(record);
                }
            }
        }
        let mut encoder = Encoder::new(Encoding::Delta);
        let (mut bytes, mut starts) = (Vec::new(), Vec::new());
        for r in &stream {
            starts.push((bytes.len(), encoder.base_at()));
            encoder.encode_into(&mut bytes, &r.borrowed());
        }
        for (seq, &(start, base_at)) in starts.iter().enumerate() {
            let mut decoder = Decoder::new(Encoding::Delta, seq as u64, base_at);
            let mut rest = &bytes[start..];
            for expected in &stream[seq..] {
                let (back, used) = decoder.decode_one(rest).unwrap();
                assert_eq!(&back, expected);
                rest = &rest[used..];
            }
            assert!(rest.is_empty());
        }
    }

    #[test]
    fn the_delta_encoding_is_shorter_than_bincode_on_the_vm_life() {
        let size = Resources::new(8_000, 32 << 30, 0);
        let life = [
            Event::VmRequested {
                vm: VmId(400_000),
                size,
            },
            Event::VmPowerOn {
                vm: VmId(400_000),
                size,
                incarnation: 0,
            },
            Event::VmDeleteRequested { vm: VmId(400_000) },
            Event::VmPowerOff { vm: VmId(400_000) },
        ];
        let mut sizes = [0usize; 2];
        for (encoding, total) in [Encoding::Bincode, Encoding::Delta].iter().zip(&mut sizes) {
            let mut encoder = Encoder::new(*encoding);
            let mut bytes = Vec::new();
            for (i, event) in life.iter().enumerate() {
                let seq = 1_600_000 + i as u64;
                let record = RecordRef {
                    seq,
                    at: SimTime(86_400_000_000 + 150_000 * i as u64),
                    from: ActorId(3),
                    to: ActorId(120),
                    cause: Some(seq - 9),
                    event,
                };
                encoder.encode_into(&mut bytes, &record);
            }
            *total = bytes.len();
        }
        // bincode: 22 bytes of seq, time, actors and cause a record, and
        // 51 of events. Delta: 31 (the first time in full, then 3-byte
        // steps; the cause one byte back) and 27.
        assert_eq!(sizes, [139, 58]);
    }

    /// Damage is an error, never a panic: every prefix of a record, every
    /// flipped byte, and an actor id past 32 bits.
    #[test]
    fn a_damaged_delta_record_is_an_error() {
        let mut bytes = Vec::new();
        let mut encoder = Encoder::new(Encoding::Delta);
        let stream = records(u32::MAX as u64 + 1, 5, 2);
        for r in &stream {
            encoder.encode_into(&mut bytes, &r.borrowed());
        }
        let decode_all = |bytes: &[u8]| -> Result<usize, String> {
            let mut decoder = Decoder::new(Encoding::Delta, 5, SimTime::ZERO);
            let mut rest = bytes;
            let mut n = 0;
            while !rest.is_empty() {
                rest = &rest[decoder.decode_one(rest)?.1..];
                n += 1;
            }
            Ok(n)
        };
        for len in 0..bytes.len() {
            let _ = decode_all(&bytes[..len]);
        }
        for at in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[at] ^= 0xA5;
            let _ = decode_all(&bad);
        }
        let mut record = Vec::new();
        write_record(&mut record, |s| {
            s.byte(KIND_VM_POWER_OFF << KIND_SHIFT);
            for n in [0, 1 << 40, 0, 0] {
                s.prefixed(n);
            }
            None
        });
        let err = (Decoder::new(Encoding::Delta, 0, SimTime::ZERO))
            .decode_one(&record)
            .unwrap_err();
        assert!(err.contains("out of range for a 32-bit field"), "{err}");
        let cut = Decoder::new(Encoding::Delta, 0, SimTime::ZERO)
            .decode_one(&bytes[..3])
            .unwrap_err();
        assert!(cut.contains("cut short"), "{cut}");
        let unknown = [7 << KIND_SHIFT, 1, 1, 1, 1];
        let err = Decoder::new(Encoding::Delta, 0, SimTime::ZERO)
            .decode_one(&unknown)
            .unwrap_err();
        assert!(err.contains("unknown record kind 7"), "{err}");
    }

    /// Prefix varints: known bytes, LEB128's length for every value under
    /// 2^56, and a round trip at every length boundary and on a spread of
    /// values.
    #[test]
    fn prefix_varints_take_leb128s_length_and_read_back() {
        let encode = |n: u64| {
            let mut out = vec![0xEE; 5];
            write_record(&mut out, |s| {
                s.byte(0xAB);
                s.prefixed(n);
                None
            });
            assert_eq!(out[..6], [0xEE, 0xEE, 0xEE, 0xEE, 0xEE, 0xAB]);
            out[6..].to_vec()
        };
        assert_eq!(encode(0), [0x01]);
        assert_eq!(encode(127), [0xFF]);
        assert_eq!(encode(128), [0x02, 0x02]);
        assert_eq!(encode(300), [0xB2, 0x04]);
        assert_eq!(encode(1 << 56), [0, 0, 0, 0, 0, 0, 0, 0, 1]);
        assert_eq!(
            encode(u64::MAX),
            [0, 255, 255, 255, 255, 255, 255, 255, 255]
        );
        let leb128_len = |n: u64| (64 - (n | 1).leading_zeros()).div_ceil(7) as usize;
        let mut values: Vec<u64> = (0..=64)
            .flat_map(|b: u32| {
                let p = 1u64.checked_shl(b).unwrap_or(0);
                [p.wrapping_sub(1), p, p.wrapping_add(1)]
            })
            .collect();
        values.extend((0..10_000u64).map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (i % 64)));
        for n in values {
            let bytes = encode(n);
            let expected = if n < 1 << 56 { leb128_len(n) } else { 9 };
            assert_eq!(bytes.len(), expected, "{n:#x}");
            let mut r = PrefixReader {
                bytes: &bytes,
                pos: 0,
            };
            assert_eq!(r.varint(), Ok(n));
            assert_eq!(r.pos, bytes.len());
            let mut cut = PrefixReader {
                bytes: &bytes[..bytes.len() - 1],
                pos: 0,
            };
            assert!(cut.varint().is_err());
        }
    }

    #[test]
    fn encodings_are_found_by_name() {
        for e in [Encoding::Bincode, Encoding::Delta] {
            assert_eq!(Encoding::named(e.name()), Some(e));
        }
        assert_eq!(Encoding::named("bincode2"), None);
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
