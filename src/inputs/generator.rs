//! A VM workload generator: renewal arrivals (Poisson for exponential
//! inter-arrival times), a size drawn from a weighted mix, a lifetime drawn
//! from a distribution. The deletion of each VM is an input too, due at
//! arrival + lifetime; at equal times deletions come before arrivals.

use super::calendar::Calendar;
use super::{Input, Source, VmIdAlloc};
use crate::event::Event;
use crate::model::{ActorId, SimTime};
use crate::random::StreamRng;
use crate::scenario::Generator;

pub struct GeneratorSource {
    spec: Generator,
    placement: ActorId,
    rng: StreamRng,
    next_arrival: Option<SimTime>,
    arrivals: u64,
    /// Pending deletions, earliest first; VM id breaks ties.
    deletions: Calendar,
    end: SimTime,
}

impl GeneratorSource {
    pub fn new(spec: Generator, placement: ActorId, rng: StreamRng, end: SimTime) -> Self {
        let mut g = GeneratorSource {
            next_arrival: None,
            spec,
            placement,
            rng,
            arrivals: 0,
            deletions: Calendar::default(),
            end,
        };
        let first = g.spec.start.saturating_add(g.draw_interarrival());
        g.next_arrival = g.admit(first);
        g
    }

    fn draw_interarrival(&mut self) -> crate::model::SimDuration {
        crate::model::SimDuration(self.rng.sample(&self.spec.interarrival))
    }

    /// `at` if an arrival may still happen then, else None.
    fn admit(&self, at: SimTime) -> Option<SimTime> {
        let stop = self.spec.stop.unwrap_or(self.end).min(self.end);
        let under_count = self.spec.count.is_none_or(|c| self.arrivals < c);
        (at <= stop && under_count).then_some(at)
    }
}

impl Source for GeneratorSource {
    fn next(&mut self, ids: &mut VmIdAlloc) -> Option<Input> {
        let deletion_first = match (self.deletions.peek(), self.next_arrival) {
            (Some((d, _)), Some(a)) => d <= a,
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
        let at = self.next_arrival?;
        let vm = ids.alloc();
        let draw = self.rng.below(self.spec.sizes.total_weight());
        let size = *self.spec.sizes.pick(draw);
        let lifetime = crate::model::SimDuration(self.rng.sample(&self.spec.lifetime));
        let delete_at = at.saturating_add(lifetime);
        if delete_at <= self.end {
            self.deletions.push(delete_at, vm);
        }
        self.arrivals += 1;
        let next = at.saturating_add(self.draw_interarrival());
        self.next_arrival = self.admit(next);
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
    use crate::model::{Dist, Resources, SimDuration, SizeMix, WeightedSize};

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
            sizes: SizeMix {
                entries: vec![WeightedSize {
                    size: Resources::cores(1, 4),
                    weight: 1,
                }],
            },
            start: SimTime::ZERO,
            stop: None,
            count: None,
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
