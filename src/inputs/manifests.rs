//! The Supervisor workloads of a scenario as inputs: the timed API calls
//! written out (`workloads.manifests`), and object generators that stamp
//! out objects from a template at random times and delete them after a
//! drawn lifetime. Every call goes to the authentication proxy as its user.
//!
//! Order at equal times: written calls first (file order), then generated
//! deletions, then generated creations (as for VM generators).

use super::{Input, Source, VmIdAlloc};
use crate::api::objects::ObjectKey;
use crate::api::{SupMsg, Verb};
use crate::model::{ActorId, SimDuration, SimTime};
use crate::random::StreamRng;
use crate::scenario::{Manifests, ObjectGenerator, TimedCall};
use std::collections::BTreeMap;

struct GeneratorState {
    spec: ObjectGenerator,
    rng: StreamRng,
    next: Option<SimTime>,
    made: u64,
}

pub struct ManifestSource {
    proxy: ActorId,
    /// Guest clusters' actors: calls with `cluster:` go straight there.
    guests: BTreeMap<ObjectKey, ActorId>,
    calls: std::vec::IntoIter<TimedCall>,
    peeked: Option<TimedCall>,
    generators: Vec<GeneratorState>,
    /// Generated calls due, by (time, 0 delete / 1 create, sequence).
    queue: BTreeMap<(SimTime, u8, u64), TimedCall>,
    seq: u64,
    next_id: u64,
    end: SimTime,
}

impl ManifestSource {
    pub fn new(
        manifests: &Manifests,
        proxy: ActorId,
        guests: BTreeMap<ObjectKey, ActorId>,
        seed: u64,
        end: SimTime,
    ) -> Self {
        let generators = manifests
            .generators
            .iter()
            .map(|g| {
                let mut state = GeneratorState {
                    spec: g.clone(),
                    rng: StreamRng::derive(seed, &format!("object-generator/{}", g.name)),
                    next: None,
                    made: 0,
                };
                let first = g
                    .start
                    .saturating_add(draw(&mut state.rng, &g.interarrival));
                state.next = admit(&state, first, end);
                state
            })
            .collect();
        let mut calls = manifests.calls.clone().into_iter();
        let peeked = calls.next();
        ManifestSource {
            proxy,
            guests,
            calls,
            peeked,
            generators,
            queue: BTreeMap::new(),
            seq: 0,
            next_id: 0,
            end,
        }
    }

    /// Moves every generator's next creation into the queue once it is no
    /// later than anything else pending, so the queue holds what is due.
    /// Generates, from every generator, the objects due no later than the
    /// next call that could be handed out: the earlier of `horizon` (the
    /// next written call) and the first generated one. Only those can come
    /// first, so the queue holds one object ahead per generator (and the
    /// deletes of the live ones), not a whole run's (a generator at 1,000/s
    /// filled gigabytes at the first call).
    fn generate_until(&mut self, horizon: Option<SimTime>) {
        for g in 0..self.generators.len() {
            while let Some(at) = self.generators[g].next {
                let queued = self.queue.keys().next().map(|k| k.0);
                let bound = match (horizon, queued) {
                    (Some(h), Some(q)) => Some(h.min(q)),
                    (h, q) => h.or(q),
                };
                if bound.is_some_and(|b| at > b) {
                    break;
                }
                self.create_from(g, at);
            }
        }
    }

    fn create_from(&mut self, g: usize, at: SimTime) {
        let state = &mut self.generators[g];
        let mut object = state.spec.template.clone();
        object.meta.name = format!("{}-{}", state.spec.template.meta.name, state.made);
        state.made += 1;
        let user = state.spec.user.clone();
        let cluster = state.spec.cluster.clone();
        let lifetime = state
            .spec
            .lifetime
            .as_ref()
            .map(|d| draw(&mut state.rng, d));
        let next = at.saturating_add(draw(&mut state.rng, &state.spec.interarrival));
        state.next = admit(state, next, self.end);
        if let Some(life) = lifetime {
            let call = TimedCall {
                at: at.saturating_add(life),
                user: user.clone(),
                verb: Verb::Delete,
                object: object.clone(),
                cluster: cluster.clone(),
            };
            self.push(0, call);
        }
        self.push(
            1,
            TimedCall {
                at,
                user,
                verb: Verb::Create,
                object,
                cluster,
            },
        );
    }

    fn push(&mut self, order: u8, call: TimedCall) {
        self.queue.insert((call.at, order, self.seq), call);
        self.seq += 1;
    }

    fn input(&mut self, call: TimedCall) -> Input {
        let id = self.next_id;
        self.next_id += 1;
        // Guest-cluster calls skip the Supervisor's authentication proxy
        // (guest auth is out of scope); the parser checked the cluster.
        let guest = call
            .cluster
            .as_ref()
            .and_then(|c| self.guests.get(c))
            .copied();
        let (to, msg) = match guest {
            Some(to) => (
                to,
                SupMsg::GuestCall {
                    id,
                    user: call.user,
                    verb: call.verb,
                    object: call.object,
                },
            ),
            None => (
                self.proxy,
                SupMsg::Call {
                    id,
                    user: call.user,
                    verb: call.verb,
                    object: call.object,
                },
            ),
        };
        Input {
            at: call.at,
            to,
            event: msg.event(),
        }
    }
}

fn draw(rng: &mut StreamRng, dist: &crate::model::Dist) -> SimDuration {
    SimDuration(rng.sample(dist))
}

fn admit(state: &GeneratorState, at: SimTime, end: SimTime) -> Option<SimTime> {
    let stop = state.spec.stop.unwrap_or(end).min(end);
    let under_count = state.spec.count.is_none_or(|c| state.made < c);
    (at <= stop && under_count).then_some(at)
}

impl Source for ManifestSource {
    fn next(&mut self, _ids: &mut VmIdAlloc) -> Option<Input> {
        self.generate_until(self.peeked.as_ref().map(|c| c.at));
        let generated_at = self.queue.keys().next().map(|k| k.0);
        let written_first = match (&self.peeked, generated_at) {
            (Some(c), Some(g)) => c.at <= g,
            (Some(_), None) => true,
            (None, _) => false,
        };
        let call = if written_first {
            let call = self.peeked.take().expect("checked");
            self.peeked = self.calls.next();
            call
        } else {
            self.queue.pop_first()?.1
        };
        Some(self.input(call))
    }
}
