//! The hand-off form: how an in-memory run's simulation thread hands its
//! records to the thread that hashes them, when a second core is free.
//!
//! Every field is a whole little-endian integer at a fixed place, so a
//! record is written with a dozen stores and no branch per field, where the
//! log's encoding ([`Encoder`]) weighs every integer's length. The hashing
//! thread turns each chunk into the log's encoding before hashing it
//! ([`transcode`]), so the digest is the hash of the same bytes as in any
//! other run. The form never leaves the process: nothing stores or reads
//! it but those two threads.
//!
//! A record: its kind (one byte), time (8 bytes), sender and receiver (4
//! each), cause (8, [`NO_CAUSE`] for none), then by kind: a VM request
//! its VM and size (8 each for the id, CPU, memory and GPU), a power-on
//! the same and its incarnation (4), a deletion request or power-off its
//! VM (8); any other event follows in bincode. Its seq is its place.

use super::codec::{
    Encoder, KIND_OTHER, KIND_VM_DELETE_REQUESTED, KIND_VM_POWER_OFF, KIND_VM_POWER_ON,
    KIND_VM_REQUESTED, decode_event_prefix, write_record,
};
use crate::event::{Event, RecordRef};
use crate::model::{ActorId, Resources, SimTime, VmId};

/// The cause of a record that has none (no seq reaches it).
const NO_CAUSE: u64 = u64::MAX;

/// Appends `record` in the hand-off form to `out`.
#[inline]
pub fn write(out: &mut Vec<u8>, record: &RecordRef<'_>) {
    write_record(out, |s| {
        let (kind, vm, size, incarnation) = match *record.event {
            Event::VmRequested { vm, size } => (KIND_VM_REQUESTED, vm, size, None),
            Event::VmDeleteRequested { vm } => {
                (KIND_VM_DELETE_REQUESTED, vm, Resources::ZERO, None)
            }
            Event::VmPowerOn {
                vm,
                size,
                incarnation,
            } => (KIND_VM_POWER_ON, vm, size, Some(incarnation)),
            Event::VmPowerOff { vm } => (KIND_VM_POWER_OFF, vm, Resources::ZERO, None),
            _ => (KIND_OTHER, VmId(0), Resources::ZERO, None),
        };
        s.byte(kind);
        s.fixed(record.at.0.to_le_bytes());
        s.fixed(record.from.0.to_le_bytes());
        s.fixed(record.to.0.to_le_bytes());
        s.fixed(record.cause.unwrap_or(NO_CAUSE).to_le_bytes());
        match kind {
            KIND_OTHER => return Some(record.event),
            KIND_VM_REQUESTED | KIND_VM_POWER_ON => {
                s.fixed(vm.0.to_le_bytes());
                s.fixed(size.cpu_millis.to_le_bytes());
                s.fixed(size.memory_bytes.to_le_bytes());
                s.fixed(size.gpu_millis.to_le_bytes());
                if let Some(incarnation) = incarnation {
                    s.fixed(incarnation.to_le_bytes());
                }
            }
            _ => s.fixed(vm.0.to_le_bytes()),
        }
        None
    });
}

/// Appends to `out` the log's encoding of the records of `chunk`, a chunk
/// in the hand-off form whose first record is `first_seq`; `encoder` is
/// the stream's, left where the chunk before ended.
///
/// Panics on bytes that are not the hand-off form: they come from
/// [`write`] in the same process, so that is a bug, never bad input.
pub fn transcode(chunk: &[u8], first_seq: u64, encoder: &mut Encoder, out: &mut Vec<u8>) {
    let mut r = Fields {
        bytes: chunk,
        pos: 0,
    };
    let mut seq = first_seq;
    while r.pos < chunk.len() {
        let kind = r.take::<1>()[0];
        let at = SimTime(r.u64());
        let from = ActorId(r.u32());
        let to = ActorId(r.u32());
        let cause = Some(r.u64()).filter(|&c| c != NO_CAUSE);
        let event = match kind {
            KIND_VM_REQUESTED => Event::VmRequested {
                vm: VmId(r.u64()),
                size: r.resources(),
            },
            KIND_VM_DELETE_REQUESTED => Event::VmDeleteRequested { vm: VmId(r.u64()) },
            KIND_VM_POWER_ON => Event::VmPowerOn {
                vm: VmId(r.u64()),
                size: r.resources(),
                incarnation: r.u32(),
            },
            KIND_VM_POWER_OFF => Event::VmPowerOff { vm: VmId(r.u64()) },
            _ => {
                let (event, len) = decode_event_prefix(&chunk[r.pos..])
                    .expect("the hand-off form holds whole bincode events");
                r.pos += len;
                event
            }
        };
        let record = RecordRef {
            seq,
            at,
            from,
            to,
            cause,
            event: &event,
        };
        encoder.encode_into(out, &record);
        seq += 1;
    }
}

/// Reads a chunk's fixed-size fields in order.
struct Fields<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Fields<'_> {
    #[inline(always)]
    fn take<const N: usize>(&mut self) -> [u8; N] {
        let field = self.bytes[self.pos..self.pos + N]
            .try_into()
            .expect("a slice of N bytes");
        self.pos += N;
        field
    }

    #[inline(always)]
    fn u64(&mut self) -> u64 {
        u64::from_le_bytes(self.take())
    }

    #[inline(always)]
    fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.take())
    }

    #[inline(always)]
    fn resources(&mut self) -> Resources {
        Resources {
            cpu_millis: self.u64(),
            memory_bytes: self.u64(),
            gpu_millis: self.u64(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Record;
    use crate::store::codec::Encoding;
    use crate::store::codec::tests::every_variant;

    /// Every kind, with causes none, behind and ahead, and a time that
    /// steps back: the hand-off form transcoded chunk by chunk gives the
    /// same bytes as encoding the records directly, whatever the chunking.
    #[test]
    fn transcoding_the_hand_off_form_gives_the_logs_bytes() {
        let records: Vec<Record> = (0..600u64)
            .map(|seq| {
                (
                    seq,
                    every_variant(seq.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (seq % 64)),
                )
            })
            .map(|(seq, events)| Record {
                seq,
                at: SimTime(if seq % 97 == 5 { seq } else { seq * 1_000_003 }),
                from: ActorId((seq % 7) as u32),
                to: ActorId((seq * 31 % 100_000) as u32),
                cause: match seq % 3 {
                    0 => None,
                    1 => seq.checked_sub(1 + seq % 40),
                    _ => Some(seq + 5),
                },
                event: events[seq as usize % events.len()].clone(),
            })
            .collect();
        let mut direct = Vec::new();
        let mut encoder = Encoder::new(Encoding::CURRENT);
        for r in &records {
            encoder.encode_into(&mut direct, &r.borrowed());
        }
        for chunk_records in [1, 7, 64, 600] {
            let mut transcoded = Vec::new();
            let mut encoder = Encoder::new(Encoding::CURRENT);
            for (i, chunk) in records.chunks(chunk_records).enumerate() {
                let mut form = Vec::new();
                for r in chunk {
                    write(&mut form, &r.borrowed());
                }
                let first_seq = (i * chunk_records) as u64;
                transcode(&form, first_seq, &mut encoder, &mut transcoded);
            }
            assert_eq!(transcoded, direct, "{chunk_records} records a chunk");
        }
    }
}
