//! Inputs read back from a trace, for what-if replays: the recorded
//! requests, deletions and scheduled faults of one original source, already
//! mapped (by actor name) onto the new world's actor ids. VM ids are the
//! recorded ones, so a what-if world must have no other VM source.

use super::{Input, Source, VmIdAlloc};

pub struct RecordedInputs {
    inputs: Vec<Input>,
    cursor: usize,
}

impl RecordedInputs {
    /// `inputs` in recorded (delivery) order, hence time order.
    pub fn new(inputs: Vec<Input>) -> Self {
        RecordedInputs { inputs, cursor: 0 }
    }

    pub fn len(&self) -> usize {
        self.inputs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.inputs.is_empty()
    }
}

impl Source for RecordedInputs {
    fn next(&mut self, _ids: &mut VmIdAlloc) -> Option<Input> {
        // Taking the event out avoids a clone per input; the slot is never
        // read again.
        let input = self.inputs.get_mut(self.cursor)?;
        self.cursor += 1;
        Some(Input {
            at: input.at,
            to: input.to,
            event: std::mem::replace(&mut input.event, crate::event::Event::Start),
        })
    }
}
