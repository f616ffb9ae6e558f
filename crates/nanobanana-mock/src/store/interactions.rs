//! Stored interactions (the Interactions API, `docs/service/INTERACTIONS.md`): bounded per
//! server, the oldest evicted first, each with its run's state ([`Run`]).

use std::collections::{HashMap, VecDeque};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use sha2::{Digest, Sha256};

use nanobanana_wire::{InteractionStatus, InteractionUsage, Step};

/// Where a stored interaction's run is: running (a background run, answered `in_progress` for
/// `polls_left` more gets), completed, or cancelled. The wire's status strings appear only at
/// the JSON boundary ([`wire`](Self::wire)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Run {
    Running { polls_left: u32 },
    Completed,
    Cancelled,
}

impl Run {
    /// The state after a get: a running interaction uses up one poll, and completes on the get
    /// after its last.
    pub(crate) fn polled(self) -> Self {
        match self {
            Self::Running { polls_left: 0 } => Self::Completed,
            Self::Running { polls_left } => Self::Running {
                polls_left: polls_left - 1,
            },
            done @ (Self::Completed | Self::Cancelled) => done,
        }
    }

    /// The state after a cancel, or the finished state that refuses it.
    pub(crate) fn cancelled(self) -> Result<Self, Self> {
        match self {
            Self::Running { .. } => Ok(Self::Cancelled),
            done @ (Self::Completed | Self::Cancelled) => Err(done),
        }
    }

    /// The state once the run is played to its end (a streamed get of a running interaction).
    pub(crate) fn finished(self) -> Self {
        match self {
            Self::Running { .. } => Self::Completed,
            done @ (Self::Completed | Self::Cancelled) => done,
        }
    }

    /// The status on the wire.
    pub(crate) fn wire(self) -> InteractionStatus {
        match self {
            Self::Running { .. } => InteractionStatus::InProgress,
            Self::Completed => InteractionStatus::Completed,
            Self::Cancelled => InteractionStatus::Cancelled,
        }
    }
}

/// What a run produces: the output steps, the usage, and whether it failed (an outcome fault).
#[derive(Clone, Debug)]
pub(crate) struct Output {
    pub(crate) steps: Vec<Step>,
    pub(crate) usage: Option<InteractionUsage>,
    pub(crate) failed: bool,
}

/// One stored interaction.
#[derive(Clone, Debug)]
pub(crate) struct StoredInteraction {
    pub(crate) id: String,
    pub(crate) model: String,
    pub(crate) created: String,
    pub(crate) updated: String,
    pub(crate) previous: Option<String>,
    /// The `user_input` steps of this turn (the full timeline of a get shows them).
    pub(crate) input: Vec<Step>,
    /// This turn as generateContent contents (the user turn, then the model's signed text), for
    /// the interactions that continue it.
    pub(crate) turn: Vec<Value>,
    pub(crate) output: Output,
    pub(crate) run: Run,
    /// Files holding the images of a `delivery: uri` answer (removed with the interaction).
    pub(crate) files: Vec<String>,
    /// Where the interaction's completion event goes (`webhook_config`).
    pub(crate) webhook: Option<crate::webhooks::WebhookConfig>,
}

/// The stored interactions of one server, at most `capacity`, the oldest evicted first.
pub(crate) struct Interactions {
    by_id: HashMap<String, StoredInteraction>,
    order: VecDeque<String>,
    capacity: usize,
    counter: u64,
}

impl Interactions {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            by_id: HashMap::new(),
            order: VecDeque::new(),
            capacity: capacity.max(1),
            counter: 0,
        }
    }

    /// A fresh id: `v1_` and 24 URL-safe characters, unique per server.
    pub(crate) fn new_id(&mut self, salt: &str) -> String {
        self.counter += 1;
        let digest = Sha256::digest(format!("{salt}/interaction/{}", self.counter).as_bytes());
        format!("v1_{}", &URL_SAFE_NO_PAD.encode(&digest[..18])[..24])
    }

    /// Stores an interaction; returns the ones evicted to make room (their files to remove).
    pub(crate) fn insert(&mut self, interaction: StoredInteraction) -> Vec<StoredInteraction> {
        let mut evicted = Vec::new();
        while self.by_id.len() >= self.capacity {
            let Some(oldest) = self.order.pop_front() else {
                break;
            };
            evicted.extend(self.by_id.remove(&oldest));
        }
        self.order.push_back(interaction.id.clone());
        self.by_id.insert(interaction.id.clone(), interaction);
        evicted
    }

    pub(crate) fn get(&self, id: &str) -> Option<&StoredInteraction> {
        self.by_id.get(id)
    }

    pub(crate) fn get_mut(&mut self, id: &str) -> Option<&mut StoredInteraction> {
        self.by_id.get_mut(id)
    }

    pub(crate) fn remove(&mut self, id: &str) -> Option<StoredInteraction> {
        let removed = self.by_id.remove(id)?;
        self.order.retain(|kept| kept != id);
        Some(removed)
    }

    /// The turns of the conversation `id` ends, oldest first (as far back as the store keeps).
    pub(crate) fn history(&self, id: &str) -> Vec<Value> {
        let mut chain = Vec::new();
        let mut next = Some(id);
        while let Some(current) = next {
            let Some(stored) = self.by_id.get(current) else {
                break;
            };
            chain.push(stored.turn.clone());
            next = stored.previous.as_deref();
            if chain.len() > self.capacity {
                break;
            }
        }
        chain.into_iter().rev().flatten().collect()
    }

    pub(crate) fn clear(&mut self) {
        self.by_id.clear();
        self.order.clear();
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.by_id.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(id: &str, previous: Option<&str>) -> StoredInteraction {
        StoredInteraction {
            id: id.to_owned(),
            model: "m".to_owned(),
            created: String::new(),
            updated: String::new(),
            previous: previous.map(str::to_owned),
            input: Vec::new(),
            turn: vec![Value::String(id.to_owned())],
            output: Output {
                steps: Vec::new(),
                usage: None,
                failed: false,
            },
            run: Run::Completed,
            files: Vec::new(),
            webhook: None,
        }
    }

    #[test]
    fn runs_move_through_polls_to_completed_and_cancel_only_while_running() {
        let run = Run::Running { polls_left: 1 };
        assert_eq!(run.polled(), Run::Running { polls_left: 0 });
        assert_eq!(run.polled().polled(), Run::Completed);
        assert_eq!(run.cancelled(), Ok(Run::Cancelled));
        assert_eq!(Run::Completed.cancelled(), Err(Run::Completed));
        assert_eq!(Run::Cancelled.polled(), Run::Cancelled);
        assert_eq!(run.finished(), Run::Completed);
        assert_eq!(run.wire(), InteractionStatus::InProgress);
    }

    #[test]
    fn the_store_is_bounded_and_evicts_the_oldest() {
        let mut store = Interactions::new(2);
        assert!(store.insert(stored("a", None)).is_empty());
        assert!(store.insert(stored("b", Some("a"))).is_empty());
        let evicted = store.insert(stored("c", Some("b")));
        assert_eq!(evicted.len(), 1);
        assert_eq!(evicted[0].id, "a");
        assert_eq!(store.len(), 2);
        assert!(store.get("a").is_none());
        // The chain stops where the store forgot.
        assert_eq!(
            store.history("c"),
            vec![Value::String("b".into()), Value::String("c".into())]
        );
    }

    #[test]
    fn ids_look_like_the_services() {
        let mut store = Interactions::new(2);
        let a = store.new_id("s");
        assert_ne!(a, store.new_id("s"));
        assert_eq!(a.len(), 27);
        assert!(a.starts_with("v1_"));
    }
}
