//! Progress on stderr for anything that waits (a generation, batch polling), drawn by
//! [`indicatif`]: a spinner with the elapsed time, which becomes a bar with counts when the wait
//! knows how much is done (a batch's finished requests out of its total).
//!
//! It draws only when stderr is a terminal and the user did not ask for `--quiet`; otherwise
//! every method is a no-op, so redirected output and logs stay clean. Its line is cleared when
//! the wait is over.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How often the spinner turns while nothing else changes.
const TICK: Duration = Duration::from_millis(100);

/// The spinner's look: frame, message, elapsed time.
const SPINNER: &str = "{spinner} {msg} ({elapsed})";

/// The bar's look once counts are known: frame, message, bar, done/total, elapsed time.
const BAR: &str = "{spinner} {msg} [{bar:30}] {pos}/{len} ({elapsed})";

/// A running spinner or bar; dropping it (or [`Spinner::stop`]) clears its line.
pub(crate) struct Spinner {
    bar: Option<ProgressBar>,
}

impl Spinner {
    /// Starts a spinner showing `message` and the time elapsed, if `animate`; otherwise a
    /// spinner that draws nothing.
    pub(crate) fn start(animate: bool, message: impl Into<String>) -> Self {
        if !animate {
            return Self { bar: None };
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr())
            .with_style(style(SPINNER))
            .with_message(message.into());
        bar.enable_steady_tick(TICK);
        bar.tick();
        Self { bar: Some(bar) }
    }

    /// Replaces the message (e.g. a batch's state after a poll).
    pub(crate) fn set_message(&self, message: impl Into<String>) {
        if let Some(bar) = &self.bar {
            bar.set_message(message.into());
        }
    }

    /// Shows a bar of `done` out of `total` (a batch's finished requests), from now on.
    pub(crate) fn set_progress(&self, done: u64, total: u64) {
        if let Some(bar) = &self.bar {
            if bar.length() != Some(total) {
                bar.set_style(style(BAR));
                bar.set_length(total);
            }
            bar.set_position(done.min(total));
        }
    }

    /// A handle that moves the bar from another task or a callback (an upload's progress):
    /// `(done, total)`; a no-op when nothing is drawn.
    pub(crate) fn progress_handle(&self) -> impl Fn(u64, u64) + Send + Sync + 'static {
        let bar = self.bar.clone();
        move |done, total| {
            if let Some(bar) = &bar {
                if bar.length() != Some(total) {
                    bar.set_style(style(BAR));
                    bar.set_length(total);
                }
                bar.set_position(done.min(total));
            }
        }
    }

    /// Stops the spinner and clears its line.
    pub(crate) fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        self.halt();
    }
}

/// A style from one of this module's templates (which are valid: a test parses them all).
fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
        .tick_chars("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏ ")
        .progress_chars("#>-")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The animated spinner is checked end to end on a pseudo-terminal (`tests/cli.rs`,
    /// `chat_on_a_terminal`), where its message and the cleared line can be seen.
    #[test]
    fn a_quiet_spinner_draws_nothing() {
        let spinner = Spinner::start(false, "waiting");
        assert!(spinner.bar.is_none());
        spinner.set_message("still waiting");
        spinner.set_progress(1, 3);
        spinner.stop();
    }

    #[test]
    fn the_templates_are_valid() {
        for template in [SPINNER, BAR] {
            assert!(ProgressStyle::with_template(template).is_ok(), "{template}");
        }
    }

    #[test]
    fn a_bar_counts_what_is_done() {
        // Drawn to a hidden target, the bar still keeps its counts.
        let spinner = Spinner {
            bar: Some(ProgressBar::hidden()),
        };
        spinner.set_progress(2, 5);
        let bar = spinner.bar.as_ref().unwrap();
        assert_eq!((bar.position(), bar.length()), (2, Some(5)));
        spinner.set_progress(9, 5);
        assert_eq!(spinner.bar.as_ref().unwrap().position(), 5);
        spinner.stop();
    }
}
