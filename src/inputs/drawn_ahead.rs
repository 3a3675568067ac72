//! A generator's inputs drawn ahead on a thread of their own, so that a
//! single run (`pacsim run`) uses a spare core for the fifth of its work that
//! is drawing arrivals, sizes and lifetimes and ordering deletions.
//!
//! What is delivered, and in what order, is the same as with the generator
//! inline: the drawing thread runs the same [`GeneratorSource`] in the same
//! order, and only hands its inputs over in batches. Inputs depend on the
//! generator's own stream and nothing the actors do (a re-placed VM keeps
//! its deletion time), which is what makes drawing them early possible.
//! VM ids are allocated by delivery order across the world's sources, so a
//! generator is drawn ahead only when it is the world's one source of VM ids
//! ([`draw_ahead`]).

use super::{GeneratorSource, Input, Source, VmIdAlloc, WorldSource};
use crate::event::Event;
use crate::model::ActorId;
use std::cell::Cell;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// Inputs per hand-over: large enough that the hand-over is rare (one per
/// few hundred microseconds of simulation), small enough that a batch
/// (about 64 KiB) stays in the caches between the two cores.
const BATCH: usize = 1024;

// A batch's positions are kept as u16 (`DrawnAhead::deletions`).
const _: () = assert!(BATCH <= u16::MAX as usize + 1);

/// Batches drawn but not yet delivered; the drawing thread waits when it
/// is this far ahead.
const IN_FLIGHT: usize = 4;

/// A batch of drawn inputs and the positions of its deletions.
type Batch = (Vec<Drawn>, Vec<u16>);

/// One drawn input, with the generator's pending deletions once it is
/// drawn (what the inline generator would report once it is delivered).
struct Drawn {
    input: Input,
    pending_deletions: usize,
}

pub struct DrawnAhead {
    batch: std::vec::IntoIter<Drawn>,
    /// The batch's length when it arrived: with what is left, the position
    /// of the next input.
    batch_len: usize,
    /// Where the batch's deletions are, in order (listed by the drawing
    /// thread), and the first of them not yet delivered as far as
    /// `upcoming` last looked: it reads its hints from these instead of
    /// searching the batch for every input.
    deletions: Vec<u16>,
    next_deletion: Cell<usize>,
    /// `None` once the drawing thread is being stopped.
    batches: Option<Receiver<Batch>>,
    drawer: Option<JoinHandle<()>>,
    pending_deletions: usize,
}

/// Replaces the world's generator by one drawn ahead on its own thread,
/// when it is the only source that allocates VM ids (explicit VMs do too,
/// in delivery order). Otherwise, or when no thread can be started, the
/// sources stay as they are.
pub fn draw_ahead(sources: &mut [(WorldSource, ActorId)]) {
    let allocating =
        |s: &WorldSource| matches!(s, WorldSource::Generator(_) | WorldSource::Explicit(_));
    let mut allocators = sources.iter().filter(|(s, _)| allocating(s));
    let (Some(_), None) = (allocators.next(), allocators.next()) else {
        return;
    };
    let Some(slot) = sources
        .iter_mut()
        .find(|(s, _)| matches!(s, WorldSource::Generator(_)))
    else {
        return;
    };
    let placeholder = WorldSource::Explicit(super::ExplicitVms::new(Vec::new(), ActorId(0)));
    let WorldSource::Generator(generator) = std::mem::replace(&mut slot.0, placeholder) else {
        unreachable!("found as a generator above")
    };
    slot.0 = match DrawnAhead::spawn(generator) {
        Ok(drawn) => WorldSource::DrawnAhead(Box::new(drawn)),
        Err(generator) => WorldSource::Generator(generator),
    };
}

impl DrawnAhead {
    /// Starts drawing `generator`'s inputs; gives it back if no thread can
    /// be started.
    fn spawn(generator: Box<GeneratorSource>) -> Result<Self, Box<GeneratorSource>> {
        let (to_deliver, batches) = sync_channel::<Batch>(IN_FLIGHT);
        // The thread takes the generator out when it starts; if it never
        // starts, the generator is still here to be handed back.
        let handed = Arc::new(Mutex::new(Some(generator)));
        let theirs = Arc::clone(&handed);
        let started = std::thread::Builder::new()
            .name("pacsim-inputs".into())
            .spawn(move || {
                let generator = theirs.lock().ok().and_then(|mut g| g.take());
                if let Some(generator) = generator {
                    draw(*generator, &to_deliver);
                }
            });
        match started {
            Ok(drawer) => Ok(DrawnAhead {
                batch: Vec::new().into_iter(),
                batch_len: 0,
                deletions: Vec::new(),
                next_deletion: Cell::new(0),
                batches: Some(batches),
                drawer: Some(drawer),
                pending_deletions: 0,
            }),
            Err(_) => {
                let generator = handed.lock().ok().and_then(|mut g| g.take());
                Err(generator.expect("a thread that never started took nothing"))
            }
        }
    }

    /// The generator's deletions still to come, as of the last input
    /// delivered.
    pub fn pending_deletions(&self) -> usize {
        self.pending_deletions
    }

    /// Waits for the next batch; false once the generator is exhausted. A
    /// panic on the drawing thread is raised here, never taken for the end.
    fn next_batch(&mut self) -> bool {
        let received = self.batches.as_ref().and_then(|b| b.recv().ok());
        let Some((batch, deletions)) = received else {
            self.join();
            return false;
        };
        self.deletions = deletions;
        self.next_deletion.set(0);
        self.batch_len = batch.len();
        // The spent batch's buffer is freed, not handed back: an advanced
        // `IntoIter` collects into a new, empty Vec, and refilling that one
        // grew it by doubling (a tenth of the drawing thread's work).
        self.batch = batch.into_iter();
        true
    }

    fn join(&mut self) {
        self.batches = None;
        if let Some(drawer) = self.drawer.take()
            && let Err(panic) = drawer.join()
        {
            std::panic::resume_unwind(panic);
        }
    }
}

/// The drawing thread: the generator's inputs, in order, in batches, until
/// it is exhausted or the run stops listening.
fn draw(mut generator: GeneratorSource, to_deliver: &SyncSender<Batch>) {
    // The generator's own VM ids are the world's: it is their only source.
    let mut ids = VmIdAlloc::default();
    let mut batch = Vec::with_capacity(BATCH);
    loop {
        let input = generator.next(&mut ids);
        let exhausted = input.is_none();
        if let Some(input) = input {
            let pending_deletions = generator.pending_deletions();
            batch.push(Drawn {
                input,
                pending_deletions,
            });
        }
        if batch.len() == BATCH || (exhausted && !batch.is_empty()) {
            let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
            let deletions = deletion_positions(&full);
            // A failed send: the run stopped early and dropped its end.
            if to_deliver.send((full, deletions)).is_err() {
                return;
            }
        }
        if exhausted {
            return;
        }
    }
}

/// Where `batch`'s deletions are, in order (on the drawing thread, so
/// that the simulation's thread only reads them when it prefetches).
fn deletion_positions(batch: &[Drawn]) -> Vec<u16> {
    let is_deletion = |d: &Drawn| matches!(d.input.event, Event::VmDeleteRequested { .. });
    (batch.iter().enumerate())
        // A batch holds at most BATCH inputs, which u16 counts.
        .filter_map(|(i, d)| is_deletion(d).then_some(i as u16))
        .collect()
}

impl Source for DrawnAhead {
    fn next(&mut self, ids: &mut VmIdAlloc) -> Option<Input> {
        loop {
            if let Some(Drawn {
                input,
                pending_deletions,
            }) = self.batch.next()
            {
                if let Event::VmRequested { vm, .. } = input.event {
                    // Keeps the world's counter where the inline generator
                    // would leave it.
                    let id = ids.alloc();
                    debug_assert_eq!(id, vm, "the generator is the only source of VM ids");
                }
                self.pending_deletions = pending_deletions;
                return Some(input);
            }
            if !self.next_batch() {
                return None;
            }
        }
    }

    /// The `ahead`-th deletion still to come in the batch at hand (none
    /// past its end): hints for prefetching, as the inline generator gives.
    fn upcoming(&self, ahead: usize) -> Option<Input> {
        // The cursor moves past the deletions delivered since the last
        // look: amortised, one step per deletion.
        let position = self.batch_len - self.batch.len();
        let mut first = self.next_deletion.get();
        while self
            .deletions
            .get(first)
            .is_some_and(|&p| (p as usize) < position)
        {
            first += 1;
        }
        self.next_deletion.set(first);
        let at = *self.deletions.get(first + ahead.checked_sub(1)?)? as usize;
        let Input {
            at: time,
            to,
            ref event,
        } = self.batch.as_slice()[at - position].input;
        let Event::VmDeleteRequested { vm } = *event else {
            unreachable!("positions are the batch's deletions")
        };
        Some(Input {
            at: time,
            to,
            event: Event::VmDeleteRequested { vm },
        })
    }
}

impl Drop for DrawnAhead {
    /// Stops the drawing thread (a run that ends before its inputs do):
    /// its next hand-over finds nobody listening.
    fn drop(&mut self) {
        self.batches = None;
        if let Some(drawer) = self.drawer.take() {
            let _ = drawer.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Dist, Resources, SimDuration, SimTime, SizeMix, WeightedSize};
    use crate::random::StreamRng;
    use crate::scenario::Generator;

    /// Several batches' worth of arrivals and deletions, ending at `end`.
    fn generator(count: Option<u64>) -> GeneratorSource {
        let size = |cpu, weight| WeightedSize {
            size: Resources::cores(cpu, 4 * cpu),
            weight,
        };
        let spec = Generator {
            name: "ahead".into(),
            interarrival: Dist::Exponential { mean: 10_000_000 },
            lifetime: Dist::Exponential {
                mean: 2_000_000_000,
            },
            sizes: SizeMix::new(vec![size(1, 3), size(8, 1)]),
            start: SimTime::ZERO,
            stop: None,
            count,
            cluster: 0,
            pool: None,
        };
        let end = SimTime::ZERO.saturating_add(SimDuration(60_000_000_000));
        GeneratorSource::new(spec, ActorId(1), StreamRng::derive(4, "drawn-ahead"), end)
    }

    fn drawn(generator: GeneratorSource) -> DrawnAhead {
        DrawnAhead::spawn(Box::new(generator))
            .ok()
            .expect("a thread starts")
    }

    #[test]
    fn delivers_what_the_inline_generator_delivers_with_the_same_counts() {
        let mut inline = generator(None);
        let mut ahead = drawn(generator(None));
        let (mut inline_ids, mut ahead_ids) = (VmIdAlloc::default(), VmIdAlloc::default());
        let mut delivered = 0;
        loop {
            let want = inline.next(&mut inline_ids);
            assert_eq!(ahead.next(&mut ahead_ids), want, "input {delivered}");
            assert_eq!(ahead.pending_deletions(), inline.pending_deletions());
            let next_id = |ids: &VmIdAlloc| ids.clone().alloc();
            assert_eq!(
                next_id(&ahead_ids),
                next_id(&inline_ids),
                "the world's VM ids"
            );
            if want.is_none() {
                break;
            }
            delivered += 1;
        }
        assert!(delivered > 4 * BATCH, "several batches: {delivered}");
        assert_eq!(
            ahead.next(&mut ahead_ids),
            None,
            "exhausted stays exhausted"
        );
    }

    #[test]
    fn upcoming_names_the_next_deletions_of_the_batch_in_order() {
        let mut ahead = drawn(generator(None));
        let mut ids = VmIdAlloc::default();
        let mut named = 0;
        while let Some(input) = ahead.next(&mut ids) {
            let promised: Vec<Input> = (1..=3).map_while(|k| ahead.upcoming(k)).collect();
            named += promised.len();
            let rest = ahead.batch.as_slice().iter().map(|d| &d.input);
            let deletions = rest.filter(|i| matches!(i.event, Event::VmDeleteRequested { .. }));
            let expected: Vec<Input> = deletions.take(3).cloned().collect();
            assert_eq!(promised, expected, "after {input:?}");
        }
        assert!(named > 1000, "the hints were exercised ({named})");
    }

    #[test]
    fn a_run_that_stops_early_stops_the_drawing_thread() {
        let mut ahead = drawn(generator(None));
        let mut ids = VmIdAlloc::default();
        for _ in 0..10 {
            ahead.next(&mut ids).expect("inputs");
        }
        // Dropping joins the thread, which is blocked handing over a batch.
        drop(ahead);
    }

    #[test]
    fn only_the_sole_source_of_vm_ids_is_drawn_ahead() {
        let gen_source = || WorldSource::Generator(Box::new(generator(Some(50))));
        let explicit =
            || WorldSource::Explicit(super::super::ExplicitVms::new(Vec::new(), ActorId(0)));
        // Drawn ahead, as the kernel tells it (its prefetch threshold).
        let kinds = |sources: &[(WorldSource, ActorId)]| -> Vec<bool> {
            (sources.iter()).map(|(s, _)| s.drawn_elsewhere()).collect()
        };
        let mut alone = vec![(gen_source(), ActorId(2))];
        draw_ahead(&mut alone);
        assert_eq!(kinds(&alone), [true]);
        let mut two = vec![(gen_source(), ActorId(2)), (gen_source(), ActorId(3))];
        draw_ahead(&mut two);
        assert_eq!(kinds(&two), [false, false]);
        let mut with_explicit = vec![(explicit(), ActorId(2)), (gen_source(), ActorId(3))];
        draw_ahead(&mut with_explicit);
        assert_eq!(kinds(&with_explicit), [false, false]);
    }
}
