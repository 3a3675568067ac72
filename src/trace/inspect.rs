//! Looking into a stored run: record filters (actor, kind, VM, time window),
//! counts per kind and per actor, and the cause chain of a record back to the
//! external input that started it. Lines show times as `SimTime` displays
//! them and actors by name.

use super::ReplayError;
use super::source::{RecordSource, name_of};
use crate::event::{Event, Record};
use crate::model::{ActorId, SimTime, VmId};
use std::collections::{BTreeMap, BTreeSet};
use std::ops::ControlFlow;

/// Every `Event::kind` name, for checking `--kind`.
pub const KINDS: [&str; 21] = [
    "MaintenanceBegin",
    "MaintenanceEnd",
    "HostIsolated",
    "HostReconnected",
    "HostUnreachable",
    "HaRestart",
    "VmRequestedWithPriority",
    "VmRefused",
    "Start",
    "VmRequested",
    "VmDeleteRequested",
    "VmRejected",
    "VmLost",
    "VmPowerOn",
    "VmPowerOff",
    "HostCrash",
    "HostRepair",
    "FailureTimer",
    "RepairTimer",
    "HostDown",
    "HostUp",
];

/// Which records to show; every given condition must hold.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Records sent by or delivered to this actor.
    pub actor: Option<ActorId>,
    pub kinds: Option<BTreeSet<&'static str>>,
    pub vm: Option<VmId>,
    /// `at >= from`.
    pub from: Option<SimTime>,
    /// `at < until`.
    pub until: Option<SimTime>,
}

impl Filter {
    pub fn matches(&self, r: &Record) -> bool {
        self.actor.is_none_or(|a| r.to == a || r.from == a)
            && self
                .kinds
                .as_ref()
                .is_none_or(|k| k.contains(r.event.kind()))
            && self.vm.is_none_or(|vm| vm_of(&r.event) == Some(vm))
            && self.from.is_none_or(|t| r.at >= t)
            && self.until.is_none_or(|t| r.at < t)
    }
}

/// `web` style names, or a number, or `actor#N`.
pub fn resolve_actor(text: &str, names: Option<&[String]>) -> Result<ActorId, String> {
    if let Some(i) = names.and_then(|n| n.iter().position(|n| n == text)) {
        return Ok(ActorId(i as u32));
    }
    let digits = text.strip_prefix("actor#").unwrap_or(text);
    if let Ok(id) = digits.parse::<u32>() {
        // With the names known, a number past them names no actor.
        return match names {
            Some(names) if id as usize >= names.len() => Err(format!(
                "no actor #{id}: this world has actors #0 to #{}",
                names.len().saturating_sub(1)
            )),
            _ => Ok(ActorId(id)),
        };
    }
    match names {
        Some(names) => Err(format!(
            "no actor named `{text}` (actors: {})",
            names.join(", ")
        )),
        None => Err(format!(
            "no actor named `{text}`: the actors' names are unavailable (see the warning above); name it by number, `actor#N`"
        )),
    }
}

/// `VmPowerOn,VmPowerOff` into checked kind names: an event's, or a
/// Supervisor message's (as `--counts` shows them).
pub fn parse_kinds(text: &str) -> Result<BTreeSet<&'static str>, String> {
    let sup = crate::api::SupMsg::KINDS;
    if text.split(',').all(|k| k.trim().is_empty()) {
        return Err("--kind names no kind: give one or more, comma-separated".to_string());
    }
    text.split(',')
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(|k| {
            (KINDS.iter().chain(sup))
                .find(|known| known.eq_ignore_ascii_case(k))
                .copied()
                .ok_or_else(|| {
                    format!(
                        "unknown event kind `{k}` (one of {}; or of the Supervisor's: {})",
                        KINDS.join(", "),
                        sup.join(", ")
                    )
                })
        })
        .collect()
}

/// Time in scenario syntax (`6h`, `90m`, `0s`).
pub fn parse_time(text: &str) -> Result<SimTime, String> {
    crate::scenario::units::parse_duration(text).map(SimTime)
}

/// The VM an event is about, if any.
pub fn vm_of(e: &Event) -> Option<VmId> {
    match e {
        Event::VmRequested { vm, .. }
        | Event::VmDeleteRequested { vm }
        | Event::VmRejected { vm }
        | Event::VmLost { vm }
        | Event::VmPowerOn { vm, .. }
        | Event::VmPowerOff { vm }
        | Event::VmRequestedWithPriority { vm, .. }
        | Event::VmRefused { vm, .. } => Some(*vm),
        _ => None,
    }
}

/// One human line per record.
pub fn line(r: &Record, names: Option<&[String]>) -> String {
    let cause = match r.cause {
        Some(c) => format!("cause #{c}"),
        None => "input".to_string(),
    };
    format!(
        "#{:<8} {:>14}  {} -> {}  {}  ({cause})",
        r.seq,
        r.at.to_string(),
        name_of(names, r.from),
        name_of(names, r.to),
        event_text(&r.event, names)
    )
}

/// An event for people: VMs as `vm-187`, sizes in cores and GiB, hosts by
/// name (`HostDown esx-03`); the Supervisor's messages in full, as their
/// fields are their meaning.
pub fn event_text(e: &Event, names: Option<&[String]>) -> String {
    let host = |h: &crate::model::HostId| {
        let actor = ActorId(1 + h.0);
        let name = name_of(names, actor);
        name.strip_prefix("host/")
            .map_or(h.to_string(), str::to_string)
    };
    let kind = e.kind();
    match e {
        Event::VmRequested { vm, size } => format!("{kind} {vm}, {size}"),
        Event::VmRequestedWithPriority { vm, size, priority } => {
            let p = crate::scenario::RestartPriority::from_u8(*priority);
            format!(
                "{kind} {vm}, {size}, restart priority {}",
                format!("{p:?}").to_lowercase()
            )
        }
        Event::VmPowerOn {
            vm,
            size,
            incarnation,
        } => {
            format!("{kind} {vm}, {size} (host incarnation {incarnation})")
        }
        Event::VmDeleteRequested { vm }
        | Event::VmRejected { vm }
        | Event::VmLost { vm }
        | Event::VmPowerOff { vm } => format!("{kind} {vm}"),
        Event::VmRefused { vm, reason } => format!("{kind} {vm}: {}", reason.name()),
        Event::HostDown { host: h }
        | Event::MaintenanceBegin { host: h }
        | Event::MaintenanceEnd { host: h }
        | Event::HostUnreachable { host: h } => format!("{kind} {}", host(h)),
        Event::HostUp {
            host: h,
            incarnation,
        } => {
            format!("{kind} {} (incarnation {incarnation})", host(h))
        }
        Event::FailureTimer { generation } | Event::RepairTimer { generation } => {
            format!("{kind} (generation {generation})")
        }
        Event::HostIsolated { power_off } => {
            let response = if *power_off {
                "power off"
            } else {
                "leave powered on"
            };
            format!("{kind} (isolation response: {response})")
        }
        Event::HostReconnected { fenced } => {
            format!("{kind}{}", if *fenced { " (fenced)" } else { "" })
        }
        Event::HaRestart { batch } => format!("{kind} (batch {batch})"),
        Event::Start | Event::HostCrash | Event::HostRepair => kind.to_string(),
        Event::Supervisor(msg) => humanize(&format!("{msg:?}"), &host),
    }
}

/// A Supervisor message's debug text with its ids as people read them:
/// `VmId(7)` as `vm-7`, `HostId(2)` as the host's name, and a
/// `Resources { .. }` in cores and GiB.
fn humanize(debug: &str, host: &dyn Fn(&crate::model::HostId) -> String) -> String {
    let number = |rest: &str| -> Option<(u64, usize)> {
        let end = rest.find(|c: char| !c.is_ascii_digit())?;
        Some((rest[..end].parse().ok()?, end))
    };
    let mut out = String::with_capacity(debug.len());
    let mut rest = debug;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("VmId(")
            && let Some((n, len)) = number(after)
            && after[len..].starts_with(')')
        {
            out.push_str(&VmId(n).to_string());
            rest = &after[len + 1..];
        } else if let Some(after) = rest.strip_prefix("HostId(")
            && let Some((n, len)) = number(after)
            && after[len..].starts_with(')')
        {
            out.push_str(&host(&crate::model::HostId(n as u32)));
            rest = &after[len + 1..];
        } else if let Some(after) = rest.strip_prefix("Resources { cpu_millis: ")
            && let Some((cpu, a)) = number(after)
            && let Some(after) = after[a..].strip_prefix(", memory_bytes: ")
            && let Some((memory, b)) = number(after)
            && let Some(after) = after[b..].strip_prefix(", gpu_millis: ")
            && let Some((gpu, c)) = number(after)
            && after[c..].starts_with(" }")
        {
            out.push_str(&crate::model::Resources::new(cpu, memory, gpu).to_string());
            rest = &after[c + 2..];
        } else {
            let ch = rest.chars().next().expect("not empty");
            out.push(ch);
            rest = &rest[ch.len_utf8()..];
        }
    }
    out
}

/// A cause chain's lines, with each run of an actor's timer re-arming
/// itself (a heartbeat every 10 s for hours) folded into its first and
/// last line and a count: `… HeartbeatTimer ×64 …`.
pub fn chain_lines(chain: &[Record], names: Option<&[String]>) -> Vec<String> {
    let same_timer = |a: &Record, b: &Record| {
        a.from == a.to && b.from == b.to && a.to == b.to && a.event.kind() == b.event.kind()
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i < chain.len() {
        let mut j = i;
        while j + 1 < chain.len() && same_timer(&chain[i], &chain[j + 1]) {
            j += 1;
        }
        let run = j - i + 1;
        out.push(line(&chain[i], names));
        if run > 2 {
            out.push(format!(
                "{:>10} … {} ×{} in all, the last:",
                "",
                chain[i].event.kind(),
                run
            ));
            out.push(line(&chain[j], names));
        } else if run == 2 {
            out.push(line(&chain[j], names));
        }
        i = j + 1;
    }
    out
}

/// Records per event kind and per receiving actor.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub kinds: BTreeMap<&'static str, u64>,
    pub actors: BTreeMap<ActorId, u64>,
    pub total: u64,
}

impl Counts {
    pub fn add(&mut self, r: &Record) {
        *self.kinds.entry(r.event.kind()).or_default() += 1;
        *self.actors.entry(r.to).or_default() += 1;
        self.total += 1;
    }

    pub fn table(&self, names: Option<&[String]>) -> String {
        let mut out = format!("{:<24} {:>12}\n", "records", self.total);
        out.push_str("by kind\n");
        for (k, n) in &self.kinds {
            out.push_str(&format!("  {k:<22} {n:>12}\n"));
        }
        out.push_str("by receiving actor\n");
        for (a, n) in &self.actors {
            out.push_str(&format!("  {:<22} {n:>12}\n", name_of(names, *a)));
        }
        out
    }
}

/// The records from the external input that started `seq`'s chain down to
/// `seq` itself, in seq order. Two passes: causes first (8 bytes a record),
/// then the chain's records.
pub fn cause_chain(
    source: &RecordSource,
    seq: u64,
    salvage: bool,
) -> Result<Vec<Record>, ReplayError> {
    let mut causes: Vec<u64> = Vec::new();
    source.for_each(salvage, |r| {
        causes.push(r.cause.unwrap_or(u64::MAX));
        if r.seq >= seq {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    })?;
    if (causes.len() as u64) <= seq {
        return Err(ReplayError::Argument(format!(
            "there is no record #{seq} (the run has {} records)",
            causes.len()
        )));
    }
    let mut chain = BTreeSet::new();
    let mut at = seq;
    loop {
        chain.insert(at);
        match causes[at as usize] {
            // Causes always precede their effects; a cycle would be damage.
            c if c < at => at = c,
            _ => break,
        }
    }
    let mut out = Vec::with_capacity(chain.len());
    source.for_each(salvage, |r| {
        let last = r.seq >= seq;
        if chain.contains(&r.seq) {
            out.push(r);
        }
        if last {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    })?;
    Ok(out)
}

/// `--vm`: a VM id (`187` or `vm-187`), or the name of a VM written out in
/// the run's scenario. A name is found through the source that speaks for
/// it: its VMs are asked for in their timeline order (time, then file
/// order), so the k-th of them is the k-th distinct VM that source asked
/// placement for.
pub fn resolve_vm(
    spec: &str,
    source: &RecordSource,
    info: &super::source::SourceInfo,
    names: Option<&[String]>,
    salvage: bool,
) -> Result<VmId, String> {
    let id = spec.strip_prefix("vm-").unwrap_or(spec);
    if let Ok(n) = id.parse::<u64>() {
        return Ok(VmId(n));
    }
    let scenario = super::header_scenario(&info.scenario, info.seed).map_err(|e| e.to_string())?;
    let groups = crate::world::layout::explicit_groups(&scenario);
    let found = groups.iter().find_map(|(owner, _, vms)| {
        let mut order: Vec<(crate::model::SimTime, usize)> =
            vms.iter().enumerate().map(|(i, v)| (v.at, i)).collect();
        order.sort();
        let k = order.iter().position(|(_, i)| vms[*i].name == spec)?;
        Some((owner.clone(), k))
    });
    let Some((owner, k)) = found else {
        let known: Vec<&str> = (scenario.workloads.vms.iter())
            .map(|v| v.name.as_str())
            .collect();
        let hint = crate::scenario::error::suggestion(spec, known.iter().copied());
        return Err(format!(
            "--vm `{spec}` is neither a VM id nor the name of a VM written out in the run's scenario{hint}"
        ));
    };
    let owner = resolve_actor(&owner, names)?;
    let mut asked: Vec<VmId> = Vec::new();
    source
        .for_each(salvage, |r| {
            let requested = matches!(
                r.event,
                Event::VmRequested { .. } | Event::VmRequestedWithPriority { .. }
            );
            if let (true, true, Some(vm)) = (requested, r.from == owner, vm_of(&r.event))
                && !asked.contains(&vm)
            {
                asked.push(vm);
            }
            if asked.len() > k {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
        .map_err(|e| e.to_string())?;
    asked
        .get(k)
        .copied()
        .ok_or_else(|| format!("VM `{spec}` was never asked for in this run"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Event;

    fn record(seq: u64, from: u32, to: u32, event: Event) -> Record {
        Record {
            seq,
            at: SimTime(seq),
            from: ActorId(from),
            to: ActorId(to),
            cause: seq.checked_sub(1),
            event,
        }
    }

    /// A timer that re-arms itself 5 times folds into its first and last
    /// line and a count; the input before it and the effect after stay.
    #[test]
    fn a_chain_folds_a_self_timer_run_into_first_last_and_a_count() {
        let mut chain = vec![record(0, 9, 1, Event::HostCrash)];
        chain.extend((1..=5).map(|s| record(s, 1, 1, Event::HostRepair)));
        chain.push(record(6, 1, 2, Event::HostRepair));
        let lines = chain_lines(&chain, None);
        assert_eq!(lines.len(), 5, "{lines:#?}");
        assert!(lines[1].starts_with("#1 "), "{lines:#?}");
        assert!(
            lines[2].contains("HostRepair ×5 in all, the last:"),
            "{lines:#?}"
        );
        assert!(lines[3].starts_with("#5 "), "{lines:#?}");
        assert!(lines[4].starts_with("#6 "), "{lines:#?}");
        // Two in a row are both shown, unfolded.
        let two = chain_lines(&chain[..3], None);
        assert_eq!(two.len(), 3);
    }
}
