//! A VM workload generator: renewal arrivals (Poisson for exponential
//! inter-arrival times), a size drawn from a weighted mix, a lifetime drawn
//! from a distribution. The deletion of each VM is an input too, due at
//! arrival + lifetime; at equal times deletions come before arrivals.

use super::calendar::Calendar;
use super::{Input, Source, VmIdAlloc};
use crate::event::Event;
use crate::model::{ActorId, Resources, SimDuration, SimTime};
use crate::random::StreamRng;
use crate::scenario::Generator;
use std::collections::VecDeque;

pub struct GeneratorSource {
    spec: Generator,
    placement: ActorId,
    rng: StreamRng,
    /// The next arrivals, drawn [`LOOKAHEAD`] ahead of their delivery (see
    /// `refill_arrivals`); empty once the generator has stopped.
    arrivals_ahead: VecDeque<Arrival>,
    /// Arrivals drawn so far (delivered or ahead).
    drawn: u64,
    /// Set when an inter-arrival time fell past the stop (or the count was
    /// reached): no more arrivals.
    stopped: bool,
    /// Pending deletions, earliest first; VM id breaks ties.
    deletions: Calendar,
    end: SimTime,
}

/// One arrival, drawn before its turn.
struct Arrival {
    at: SimTime,
    size: Resources,
    lifetime: SimDuration,
}

/// How many arrivals are drawn before their delivery: an arrival's deletion
/// time is known that early, so the calendar line it will be appended to is
/// loaded in two steps, each one arrival apart (at 150 arrivals/s over a
/// 90,000-entry calendar, both the ring slot and its tail missed).
const LOOKAHEAD: usize = 2;

impl GeneratorSource {
    /// VMs whose deletion this generator still has to deliver.
    pub fn pending_deletions(&self) -> usize {
        self.deletions.len()
    }

    pub fn new(spec: Generator, placement: ActorId, rng: StreamRng, end: SimTime) -> Self {
        let mut g = GeneratorSource {
            spec,
            placement,
            rng,
            arrivals_ahead: VecDeque::with_capacity(LOOKAHEAD),
            drawn: 0,
            stopped: false,
            deletions: Calendar::default(),
            end,
        };
        g.refill_arrivals();
        g
    }

    /// Draws arrivals until [`LOOKAHEAD`] are waiting. Each arrival's draws
    /// are its inter-arrival time, then (when admitted) its size and its
    /// lifetime: the order in which they were drawn when each arrival was
    /// drawn at its delivery, so the stream, and every run, is unchanged.
    fn refill_arrivals(&mut self) {
        while !self.stopped && self.arrivals_ahead.len() < LOOKAHEAD {
            let after = self.arrivals_ahead.back().map_or(self.spec.start, |a| a.at);
            let at = after.saturating_add(SimDuration(self.rng.sample(&self.spec.interarrival)));
            if !self.admits(at) {
                self.stopped = true;
                break;
            }
            let size = *self
                .spec
                .sizes
                .pick(self.rng.below(self.spec.sizes.total_weight()));
            let lifetime = SimDuration(self.rng.sample(&self.spec.lifetime));
            self.drawn += 1;
            self.arrivals_ahead
                .push_back(Arrival { at, size, lifetime });
        }
    }

    /// Whether the next arrival may happen at `at`.
    fn admits(&self, at: SimTime) -> bool {
        let stop = self.spec.stop.unwrap_or(self.end).min(self.end);
        let under_count = self.spec.count.is_none_or(|c| self.drawn < c);
        at <= stop && under_count
    }

    /// Warms the calendar for the arrivals ahead: the tail of the nearer
    /// one's bucket (its slot was warmed one arrival ago) and the slot of
    /// the further one's.
    fn prefetch_deletions(&self) {
        let mut ahead = self
            .arrivals_ahead
            .iter()
            .map(|a| a.at.saturating_add(a.lifetime));
        if let Some(at) = ahead.next() {
            self.deletions.prefetch_append(at);
        }
        if let Some(at) = ahead.next() {
            self.deletions.prefetch_slot(at);
        }
    }
}

impl Source for GeneratorSource {
    fn next(&mut self, ids: &mut VmIdAlloc) -> Option<Input> {
        let deletion_first = match (self.deletions.peek(), self.arrivals_ahead.front()) {
            (Some((d, _)), Some(a)) => d <= a.at,
            (Some(_), None) => true,
            (None, _) => false,
        };
        if deletion_first {
            let (at, vm) = self.deletions.pop().expect("peeked");
            return Some(Input {
                at,
                to: self.placement,
                event: Event::VmDeleteRequested { vm },
            });
        }
        let Arrival { at, size, lifetime } = self.arrivals_ahead.pop_front()?;
        let vm = ids.alloc();
        let delete_at = at.saturating_add(lifetime);
        if delete_at <= self.end {
            self.deletions.push(delete_at, vm);
        }
        self.refill_arrivals();
        self.prefetch_deletions();
        Some(Input {
            at,
            to: self.placement,
            event: Event::VmRequested { vm, size },
        })
    }

    /// The deletions after the next one, while they are in the calendar's
    /// current second (arrivals are new ids, nothing to prefetch).
    fn upcoming(&self, ahead: usize) -> Option<Input> {
        let (at, vm) = self.deletions.peek_loaded(ahead.checked_sub(1)?)?;
        Some(Input {
            at,
            to: self.placement,
            event: Event::VmDeleteRequested { vm },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Dist, SizeMix, VmId, WeightedSize};

    fn spec_with(count: Option<u64>, stop: Option<SimTime>) -> Generator {
        let size = |cpu, weight| WeightedSize {
            size: Resources::cores(cpu, 4 * cpu),
            weight,
        };
        Generator {
            name: "mix".into(),
            interarrival: Dist::Exponential { mean: 50_000_000 },
            lifetime: Dist::Exponential {
                mean: 3_000_000_000,
            },
            sizes: SizeMix::new(vec![size(1, 3), size(4, 1)]),
            start: SimTime(7_000_000),
            stop,
            count,
            cluster: 0,
            pool: None,
        }
    }

    /// Drawing arrivals ahead of their delivery changes no input: the
    /// arrivals and deletions are those of drawing each arrival's
    /// inter-arrival time, size and lifetime at its delivery (the generator
    /// before the lookahead, restated here), up to the same last arrival
    /// whether a count, a stop or the end stops it.
    #[test]
    fn drawing_ahead_yields_the_inputs_of_drawing_at_delivery() {
        let end = SimTime(20_000_000_000);
        let limits = [
            (None, None),
            (Some(37), None),
            (None, Some(SimTime(4_000_000_000))),
        ];
        for (count, stop) in limits {
            let spec = spec_with(count, stop);
            let rng = || StreamRng::derive(9, "generator-lookahead");
            let mut expected = Vec::new();
            let mut draws = rng();
            let limit = stop.unwrap_or(end).min(end);
            let mut at = spec
                .start
                .saturating_add(SimDuration(draws.sample(&spec.interarrival)));
            let mut n = 0u64;
            while at <= limit && count.is_none_or(|c| n < c) {
                let size = *spec.sizes.pick(draws.below(spec.sizes.total_weight()));
                let lifetime = SimDuration(draws.sample(&spec.lifetime));
                expected.push((at, VmId(n), size, at.saturating_add(lifetime)));
                n += 1;
                at = at.saturating_add(SimDuration(draws.sample(&spec.interarrival)));
            }
            let mut source = GeneratorSource::new(spec, ActorId(1), rng(), end);
            let mut ids = VmIdAlloc::default();
            let mut arrivals = Vec::new();
            let mut deletions = std::collections::BTreeMap::new();
            while let Some(input) = source.next(&mut ids) {
                match input.event {
                    Event::VmRequested { vm, size } => arrivals.push((input.at, vm, size)),
                    Event::VmDeleteRequested { vm } => {
                        deletions.insert(vm, input.at);
                    }
                    other => panic!("unexpected {other:?}"),
                }
            }
            assert!(
                expected.len() > 30,
                "{count:?} {stop:?}: {}",
                expected.len()
            );
            let want: Vec<_> = expected
                .iter()
                .map(|&(at, vm, size, _)| (at, vm, size))
                .collect();
            assert_eq!(arrivals, want, "arrivals, limits {count:?} {stop:?}");
            for (_, vm, _, delete_at) in expected {
                let got = deletions.get(&vm).copied();
                assert_eq!(got, (delete_at <= end).then_some(delete_at), "{vm:?}");
            }
        }
    }

    /// Whatever `upcoming` names, `next` returns later, in that order; a VM
    /// that arrives in between with a short life may delete in between.
    #[test]
    fn upcoming_names_the_deletions_next_returns_later() {
        let spec = Generator {
            name: "churn".into(),
            interarrival: Dist::Exponential { mean: 10_000_000 },
            lifetime: Dist::Exponential {
                mean: 2_000_000_000,
            },
            sizes: SizeMix::new(vec![WeightedSize {
                size: Resources::cores(1, 4),
                weight: 1,
            }]),
            start: SimTime::ZERO,
            stop: None,
            count: None,
            cluster: 0,
            pool: None,
        };
        let end = SimTime::ZERO.saturating_add(SimDuration(60_000_000_000));
        let rng = StreamRng::derive(3, "generator-upcoming");
        let mut source = GeneratorSource::new(spec, ActorId(1), rng, end);
        let mut ids = VmIdAlloc::default();
        // (deletions returned so far, what `upcoming` named then)
        let mut promises: Vec<(usize, Vec<Input>)> = Vec::new();
        let mut deletions = Vec::new();
        while let Some(input) = source.next(&mut ids) {
            if matches!(input.event, Event::VmDeleteRequested { .. }) {
                deletions.push(input);
            }
            let ahead: Vec<Input> = (1..=2).map_while(|k| source.upcoming(k)).collect();
            promises.push((deletions.len(), ahead));
        }
        let named: usize = promises.iter().map(|(_, a)| a.len()).sum();
        assert!(named > 1000, "the lookahead was exercised ({named})");
        let mut exact = 0;
        for (seen, ahead) in &promises {
            let mut later = deletions[*seen..].iter();
            for input in ahead {
                assert!(later.any(|d| d == input), "{input:?} never came");
            }
            exact += usize::from(deletions[*seen..].starts_with(ahead));
        }
        // With lives of seconds and arrivals every 10 ms, most still hold.
        assert!(
            exact * 10 > promises.len() * 9,
            "{exact} of {}",
            promises.len()
        );
    }
}
