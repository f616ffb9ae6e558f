//! Simulated answers kept for repeated requests (the same request gives the same bytes), bounded by count and bytes.

use std::collections::VecDeque;

use bytes::Bytes;

/// Simulated answers kept for repeated requests, bounded by count and bytes.
pub(crate) struct Cache {
    entries: VecDeque<([u8; 32], CachedAnswer)>,
    bytes: usize,
}

/// A cached answer: the whole body, and the stream events.
#[derive(Clone)]
pub(crate) struct CachedAnswer {
    pub(crate) body: Bytes,
    pub(crate) events: Vec<Bytes>,
}

const CACHE_ENTRIES: usize = 64;
const CACHE_BYTES: usize = 256 << 20;

impl Cache {
    pub(crate) fn new() -> Self {
        Self {
            entries: VecDeque::new(),
            bytes: 0,
        }
    }

    pub(crate) fn get(&self, key: &[u8; 32]) -> Option<CachedAnswer> {
        self.entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    }

    pub(crate) fn put(&mut self, key: [u8; 32], answer: CachedAnswer) {
        let size = answer.body.len() + answer.events.iter().map(Bytes::len).sum::<usize>();
        if size > CACHE_BYTES / 4 {
            return;
        }
        while self.entries.len() >= CACHE_ENTRIES || self.bytes + size > CACHE_BYTES {
            let Some((_, old)) = self.entries.pop_front() else {
                break;
            };
            self.bytes -= old.body.len() + old.events.iter().map(Bytes::len).sum::<usize>();
        }
        self.bytes += size;
        self.entries.push_back((key, answer));
    }
}
