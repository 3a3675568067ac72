//! The record encoding: bincode with variable-length integers (small ids and
//! times take one or a few bytes), little-endian. Every byte that is hashed
//! or persisted goes through here, so swapping the codec is a change to this
//! file alone (and a new log format version).

use crate::event::{Record, RecordRef};
use bincode::Options;

fn options() -> impl Options {
    bincode::DefaultOptions::new()
        .with_varint_encoding()
        .with_little_endian()
}

/// Appends the encoding of `record` to `out`.
#[inline]
pub fn encode_into(out: &mut Vec<u8>, record: &RecordRef<'_>) {
    options()
        .serialize_into(out, record)
        .expect("records always encode into a Vec");
}

/// Decodes one record from the front of `bytes`, returning it and the number
/// of bytes it took.
pub fn decode_one(bytes: &[u8]) -> Result<(Record, usize), bincode::Error> {
    let mut cursor = std::io::Cursor::new(bytes);
    let record: Record = options().deserialize_from(&mut cursor)?;
    Ok((record, cursor.position() as usize))
}

/// Encodes any serde value with the same options (for headers and meta).
pub fn encode_value<T: serde::Serialize>(value: &T) -> Vec<u8> {
    options()
        .serialize(value)
        .expect("values always encode into a Vec")
}

pub fn decode_value<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, bincode::Error> {
    options().deserialize(bytes)
}

/// The name of this encoding, written into trace headers so that a reader can
/// refuse records it would misread.
pub const RECORD_ENCODING: &str = "bincode1-varint-le";
