//! A trace's external inputs (records with no cause: requests, VM
//! arrivals and deletions, scheduled faults, a served session's calls), by
//! source, to re-drive against another world: what `replay --what-if` and
//! `plan` on a recorded session run.

use super::reader::TraceReader;
use super::{ReplayError, header_scenario, session};
use crate::api::{SupMsg, Verb};
use crate::event::{Event, Record};
use crate::inputs::{Input, RecordedInputs, WorldSource};
use crate::model::{ActorId, SimTime};
use crate::scenario::Scenario;
use crate::world::World;
use std::collections::BTreeMap;
use std::path::Path;

/// One original source's inputs, by the name of its owner.
#[derive(Clone, Debug)]
pub struct Group {
    pub name: String,
    pub inputs: Vec<(SimTime, String, Event)>,
}

/// Adds `r` to its source's group if it is an external input (recorded
/// `Start`s are skipped: the new world sends its own); says whether it was.
pub fn collect_input(groups: &mut BTreeMap<ActorId, Group>, names: &[String], r: &Record) -> bool {
    if r.cause.is_some() || matches!(r.event, Event::Start) {
        return false;
    }
    let name_of = |id: ActorId| names.get(id.0 as usize).cloned().unwrap_or_default();
    groups
        .entry(r.from)
        .or_insert_with(|| Group {
            name: name_of(r.from),
            inputs: Vec::new(),
        })
        .inputs
        .push((r.at, name_of(r.to), without_precondition(r.event.clone())));
    true
}

/// A recorded update names the resourceVersion of the recording world's
/// store (a served `kubectl scale` or patch sends the version it read). A
/// changed world numbers its writes otherwise, so re-driven, the update
/// would be a conflict that never happened: it goes without the
/// precondition, which the recording already passed.
fn without_precondition(mut event: Event) -> Event {
    if let Event::Supervisor(msg) = &mut event
        && let SupMsg::Call {
            verb: Verb::Update,
            object,
            ..
        } = msg.as_mut()
    {
        object.meta.resource_version = 0;
    }
    event
}

/// The world of `scenario` without its own inputs, with one recorded
/// source per original source; also how many inputs it kept and dropped
/// (those for actors it does not have, such as hosts it lacks, and those
/// naming such a host, such as a maintenance window on it).
pub fn recorded_world(scenario: &Scenario, groups: BTreeMap<ActorId, Group>) -> (World, u64, u64) {
    let hosts = scenario.datacenter.hosts.len();
    let names_a_lacking_host = |event: &Event| event.host().is_some_and(|h| h.0 as usize >= hosts);
    let mut world = World::build_bare(scenario);
    let ids: BTreeMap<String, ActorId> = world
        .names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.clone(), ActorId(i as u32)))
        .collect();
    let (mut kept, mut dropped) = (0u64, 0u64);
    for group in groups.into_values() {
        let mut inputs = Vec::with_capacity(group.inputs.len());
        for (at, to, event) in group.inputs {
            match ids.get(&to) {
                Some(&to) if !names_a_lacking_host(&event) => inputs.push(Input { at, to, event }),
                _ => dropped += 1,
            }
        }
        kept += inputs.len() as u64;
        world.add_source(
            group.name,
            WorldSource::Recorded(RecordedInputs::new(inputs)),
        );
    }
    (world, kept, dropped)
}

/// A whole trace's inputs and the scenario they were recorded against.
#[derive(Clone, Debug)]
pub struct Recorded {
    /// The header's scenario; a served session's lasts until its last
    /// record (it ran until it was stopped, not for its duration).
    pub scenario: Scenario,
    pub groups: BTreeMap<ActorId, Group>,
    pub inputs: u64,
}

/// Reads `path`'s inputs (an intact trace only).
pub fn read(path: &Path) -> Result<Recorded, ReplayError> {
    let mut reader = TraceReader::open(path)?;
    let header = reader.header().clone();
    let mut scenario = header_scenario(&header.scenario, header.seed)?;
    let names = World::build(&scenario).names;
    let (mut groups, mut last, mut inputs) = (BTreeMap::new(), SimTime::ZERO, 0u64);
    for r in reader.records() {
        let r = r?;
        last = r.at;
        inputs += u64::from(collect_input(&mut groups, &names, &r));
    }
    if session::is_session(&header.scenario) {
        scenario.duration.0 = last.0;
    }
    Ok(Recorded {
        scenario,
        groups,
        inputs,
    })
}

impl Recorded {
    /// The world of `scenario` (this one, resized or changed) driven by
    /// the recorded inputs.
    pub fn world(&self, scenario: &Scenario) -> World {
        recorded_world(scenario, self.groups.clone()).0
    }
}
