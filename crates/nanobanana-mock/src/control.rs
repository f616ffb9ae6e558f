//! Control of a running server, shared by the Rust API ([`MockGemini`](crate::MockGemini)) and
//! the admin HTTP API: the settings that can change while it runs, mounting, reset and
//! verification.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use nanobanana_rules::{Date, SignaturePolicy};

use crate::mock::{Mock, Mounted};
use crate::server::{Mode, Shared, lock};

/// The settings a running server can change (the admin API's `PATCH /__admin/settings`): what
/// every request reads, so they are kept in one atomic word (a load per request, no lock).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Settings {
    pub(crate) mode: Mode,
    pub(crate) as_of: Date,
    pub(crate) signatures: SignaturePolicy,
}

impl Settings {
    fn pack(self) -> u64 {
        let mode = match self.mode {
            Mode::Simulate => 0,
            Mode::Replay => 1,
            Mode::Hybrid => 2,
        };
        let signatures = match self.signatures {
            SignaturePolicy::Strict => 1,
            SignaturePolicy::Lenient => 2,
            // ByDate, and any policy added later, judge by the date.
            _ => 0,
        };
        let date = (u64::from(self.as_of.year()) << 16)
            | (u64::from(self.as_of.month()) << 8)
            | u64::from(self.as_of.day());
        (mode << 40) | (signatures << 32) | date
    }

    fn unpack(word: u64) -> Settings {
        let mode = match (word >> 40) & 0xff {
            0 => Mode::Simulate,
            1 => Mode::Replay,
            _ => Mode::Hybrid,
        };
        let signatures = match (word >> 32) & 0xff {
            1 => SignaturePolicy::Strict,
            2 => SignaturePolicy::Lenient,
            _ => SignaturePolicy::ByDate,
        };
        // Only packed from a valid date, so `new` cannot fail; the fallback keeps it total.
        let as_of = Date::new(
            ((word >> 16) & 0xffff) as u16,
            ((word >> 8) & 0xff) as u8,
            (word & 0xff) as u8,
        )
        .unwrap_or_else(|| Date::from_unix_days(0));
        Settings {
            mode,
            as_of,
            signatures,
        }
    }
}

/// [`Settings`] in an atomic word.
#[derive(Debug)]
pub(crate) struct LiveSettings(AtomicU64);

impl LiveSettings {
    pub(crate) fn new(settings: Settings) -> Self {
        Self(AtomicU64::new(settings.pack()))
    }

    pub(crate) fn get(&self) -> Settings {
        Settings::unpack(self.0.load(Ordering::Relaxed))
    }

    pub(crate) fn set(&self, settings: Settings) {
        self.0.store(settings.pack(), Ordering::Relaxed);
    }
}

impl Shared {
    /// The settings in force.
    pub(crate) fn settings(&self) -> Settings {
        self.settings.get()
    }

    /// The settings the server was started with.
    pub(crate) fn initial_settings(&self) -> Settings {
        Settings {
            mode: self.config.mode,
            as_of: self.config.as_of,
            signatures: self.config.signatures,
        }
    }

    /// Mounts a mock; `scoped` ones are verified by their guard, not by the server's drop.
    pub(crate) fn register(self: &Arc<Self>, mock: Mock, scoped: bool) -> Arc<Mounted> {
        let mounted = Arc::new(Mounted {
            id: self.next_mount.fetch_add(1, Ordering::SeqCst),
            mock,
            matched: AtomicU64::new(0),
            scoped,
            server: Arc::downgrade(self),
        });
        self.mounts
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .push(Arc::clone(&mounted));
        mounted
    }

    /// The mounted mocks, in matching order.
    pub(crate) fn mounted(&self) -> Vec<Arc<Mounted>> {
        self.mounts
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Forgets mounted mocks, the journal, unmatched reports, replay progress, stored files and
    /// batches, and restores the settings the server started with.
    pub(crate) fn reset(&self) {
        self.mounts
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        lock(&self.journal).clear();
        lock(&self.unmatched).clear();
        lock(&self.header_faults).clear();
        lock(&self.store).clear();
        self.webhooks.clear();
        if let Some(replay) = &self.replay {
            replay.reset();
        }
        if let Some(conditions) = &self.conditions {
            conditions.reset();
        }
        self.settings.set(self.initial_settings());
    }

    /// The unmet expectations of the mounted mocks.
    pub(crate) fn unmet_expectations(&self) -> Vec<String> {
        self.mounts
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter_map(|m| m.unmet())
            .collect()
    }

    /// Every failure (unmet expectations and, unless allowed, replay misses) with the journal,
    /// or `None` when there is none.
    pub(crate) fn failures(&self) -> Option<String> {
        let mut failures = self.unmet_expectations();
        if self.config.fail_on_unmatched {
            failures.extend(lock(&self.unmatched).iter().cloned());
        }
        (!failures.is_empty()).then(|| self.failure_report(&failures))
    }

    /// The report of failures: one line each, then the journal.
    pub(crate) fn failure_report(&self, failures: &[String]) -> String {
        format!(
            "nanobanana-mock verification failed:\n- {}\n{}",
            failures.join("\n- "),
            self.journal_report()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_survive_packing() {
        for mode in [Mode::Simulate, Mode::Replay, Mode::Hybrid] {
            for signatures in [
                SignaturePolicy::ByDate,
                SignaturePolicy::Strict,
                SignaturePolicy::Lenient,
            ] {
                for as_of in ["1970-01-01", "2026-03-01", "9999-12-31"] {
                    let settings = Settings {
                        mode,
                        as_of: as_of.parse().unwrap(),
                        signatures,
                    };
                    assert_eq!(Settings::unpack(settings.pack()), settings);
                }
            }
        }
    }
}
