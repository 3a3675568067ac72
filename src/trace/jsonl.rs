//! JSON Lines export: a first line with what the run was, then one line per
//! record with readable times, actor names and the event as JSON.

use super::source::{SourceInfo, name_of};
use crate::event::Record;
use serde_json::{Value, json};

/// The first line: `{"pacsim_trace": {...}}`.
pub fn header_line(info: &SourceInfo) -> Value {
    json!({
        "pacsim_trace": {
            "seed": info.seed,
            "pacsim_version": info.pacsim_version,
            "digest_algorithm": super::format::DIGEST_ALGORITHM,
            "scenario": info.scenario,
        }
    })
}

/// One record as a JSON object.
pub fn record_line(r: &Record, names: Option<&[String]>) -> Value {
    json!({
        "seq": r.seq,
        "at_ns": r.at.0,
        "at": r.at.to_string(),
        "from": r.from.0,
        "from_name": name_of(names, r.from),
        "to": r.to.0,
        "to_name": name_of(names, r.to),
        "cause": r.cause,
        "kind": r.event.kind(),
        "event": r.event,
    })
}
