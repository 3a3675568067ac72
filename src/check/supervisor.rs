//! The Supervisor's invariants (names are stable; they appear in reports):
//! - `namespace-limits`: no namespace's charged usage (pods' requests, VMs'
//!   class hardware, claims' storage) exceeds its limits.
//! - `api-objects`: every object whose create the API acknowledged is in
//!   the store or was deleted by a recorded call.
//! - `crash-rebuild`: a part rebuilt from its journal after a crash has the
//!   state it had when it crashed.

use crate::actors::WorldActor;

/// The first broken Supervisor invariant: (name, detail).
pub fn check(actors: &[WorldActor]) -> Option<(&'static str, String)> {
    let api = crate::supervisor::summary::api_server(actors)?;
    for (ns, used) in api.namespace_usage() {
        let over = |limit: Option<u64>, used: u64| limit.is_some_and(|l| used > l);
        if over(ns.cpu_limit_millis, used.cpu_millis)
            || over(ns.memory_limit_bytes, used.memory_bytes)
            || over(ns.storage_limit_bytes, used.storage_bytes)
        {
            return Some((
                "namespace-limits",
                format!("namespace {} uses {used:?} past its limits", ns.name),
            ));
        }
    }
    if let Some(key) = api.lost_object() {
        return Some((
            "api-objects",
            format!("{key} was acknowledged but is neither stored nor deleted"),
        ));
    }
    for (i, a) in actors.iter().enumerate() {
        if let WorldActor::Supervisor(part) = a
            && part.rebuild_mismatch
        {
            return Some((
                "crash-rebuild",
                format!(
                    "actor#{i} rebuilt from its journal differs from its state before the crash"
                ),
            ));
        }
    }
    None
}
