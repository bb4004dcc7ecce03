//! [`Timers`]: the deadlines of a loop's connections, in one min-heap.
//!
//! Each connection keeps at most one live entry, for its earliest deadline. When a deadline
//! moves later (data arrived, so the keep-alive ping is due later), the heap is not touched:
//! the old entry fires, the loop sees nothing is due yet and pushes the new time. A busy
//! connection therefore costs one heap operation per timeout period, not one per read.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Instant;

/// One scheduled check: when, which slot, and the slot's id (slab keys are reused).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Entry {
    pub(crate) at: Instant,
    pub(crate) key: usize,
    pub(crate) id: u64,
}

#[derive(Debug, Default)]
pub(crate) struct Timers {
    heap: BinaryHeap<Reverse<Entry>>,
}

impl Timers {
    pub(crate) fn schedule(&mut self, entry: Entry) {
        self.heap.push(Reverse(entry));
    }

    /// The earliest scheduled time.
    pub(crate) fn next(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse(entry)| entry.at)
    }

    /// Removes and returns the earliest entry if it is due at `now`.
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<Entry> {
        match self.heap.peek() {
            Some(Reverse(entry)) if entry.at <= now => self.heap.pop().map(|Reverse(e)| e),
            _ => None,
        }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.heap.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn pops_in_time_order_only_when_due() {
        let start = Instant::now();
        let mut timers = Timers::default();
        for (offset, key) in [(30, 3), (10, 1), (20, 2)] {
            timers.schedule(Entry {
                at: start + Duration::from_millis(offset),
                key,
                id: key as u64,
            });
        }
        assert_eq!(timers.next(), Some(start + Duration::from_millis(10)));
        assert_eq!(timers.pop_due(start), None);
        let due: Vec<usize> =
            std::iter::from_fn(|| timers.pop_due(start + Duration::from_millis(25)))
                .map(|e| e.key)
                .collect();
        assert_eq!(due, [1, 2]);
        assert_eq!(timers.len(), 1);
    }
}
