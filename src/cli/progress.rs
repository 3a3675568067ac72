//! A progress bar on stderr over virtual time, shown only when stderr is a
//! terminal and only once a run has taken more than a second.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use pacsim::model::SimTime;
use std::io::IsTerminal;
use std::time::{Duration, Instant};

pub struct Progress {
    started: Instant,
    end: SimTime,
    bar: Option<ProgressBar>,
    enabled: bool,
}

impl Progress {
    pub fn new(end: SimTime) -> Self {
        Progress {
            started: Instant::now(),
            end,
            bar: None,
            enabled: std::io::stderr().is_terminal(),
        }
    }

    pub fn update(&mut self, now: SimTime, events: u64) {
        if !self.enabled || self.started.elapsed() < Duration::from_secs(1) {
            return;
        }
        let end_secs = self.end.0 / 1_000_000_000;
        let bar = self.bar.get_or_insert_with(|| {
            let bar = ProgressBar::with_draw_target(Some(end_secs), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(
                    "{bar:40} {percent:>3}% sim {msg} [{elapsed} elapsed, ~{eta} left]",
                )
                .expect("valid template"),
            );
            bar
        });
        bar.set_position(now.0 / 1_000_000_000);
        bar.set_message(format!("{now}, {events} events"));
    }

    pub fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

/// A counter of finished runs across a plan's sweep (whose length is not
/// known in advance), on stderr when it is a terminal.
pub struct SweepBar {
    bar: Option<ProgressBar>,
}

impl SweepBar {
    pub fn new() -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template("{spinner} {pos} runs [{elapsed}, {per_sec}]")
                    .expect("valid template"),
            );
            bar
        });
        SweepBar { bar }
    }

    pub fn tick(&self) {
        if let Some(b) = &self.bar {
            b.inc(1);
        }
    }

    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}
