//! A spinner on stderr for anything that waits (a generation, batch polling), hand-rolled: one
//! thread redraws one line ten times a second and clears it when the wait is over.
//!
//! It draws only when stderr is a terminal and the user did not ask for `--quiet`; otherwise
//! every method is a no-op, so redirected output and logs stay clean.

use std::io::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const FRAMES: [char; 10] = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const TICK: Duration = Duration::from_millis(100);

/// A running spinner; dropping it (or [`Spinner::stop`]) clears its line.
pub(crate) struct Spinner {
    running: Option<Running>,
}

struct Running {
    shared: Arc<Shared>,
    thread: JoinHandle<()>,
}

struct Shared {
    message: Mutex<String>,
    stop: AtomicBool,
}

impl Spinner {
    /// Starts a spinner showing `message` and the time elapsed, if `animate`; otherwise a
    /// spinner that draws nothing.
    pub(crate) fn start(animate: bool, message: impl Into<String>) -> Self {
        if !animate {
            return Self { running: None };
        }
        let shared = Arc::new(Shared {
            message: Mutex::new(message.into()),
            stop: AtomicBool::new(false),
        });
        let for_thread = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("spinner".to_owned())
            .spawn(move || draw(&for_thread));
        match thread {
            Ok(thread) => Self {
                running: Some(Running { shared, thread }),
            },
            // No thread, no spinner: waiting works the same without it.
            Err(_) => Self { running: None },
        }
    }

    /// Replaces the message (e.g. a batch's state after a poll).
    pub(crate) fn set_message(&self, message: impl Into<String>) {
        if let Some(running) = &self.running {
            *lock(&running.shared.message) = message.into();
        }
    }

    /// Stops the spinner and clears its line.
    pub(crate) fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        if let Some(running) = self.running.take() {
            running.shared.stop.store(true, Ordering::SeqCst);
            running.thread.thread().unpark();
            let _ = running.thread.join();
        }
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        self.halt();
    }
}

fn lock(message: &Mutex<String>) -> std::sync::MutexGuard<'_, String> {
    message
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn draw(shared: &Shared) {
    let started = Instant::now();
    let mut frame = 0;
    while !shared.stop.load(Ordering::SeqCst) {
        let line = format!(
            "\r{} {} ({:.1}s)\x1b[K",
            FRAMES[frame % FRAMES.len()],
            lock(&shared.message),
            started.elapsed().as_secs_f64()
        );
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(line.as_bytes());
        let _ = err.flush();
        drop(err);
        frame += 1;
        std::thread::park_timeout(TICK);
    }
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(b"\r\x1b[K");
    let _ = err.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The animated spinner is checked end to end on a pseudo-terminal (`tests/cli.rs`,
    /// `chat_on_a_terminal`), where its frames and the cleared line can be seen.
    #[test]
    fn a_quiet_spinner_starts_no_thread() {
        let spinner = Spinner::start(false, "waiting");
        assert!(spinner.running.is_none());
        spinner.set_message("still waiting");
        spinner.stop();
    }
}
