//! [`Timers`]: every deadline of a loop in one min-heap: its connections' (the handshake
//! timeout, the core's keep-alive, pong and close timers, the final drain) and its clients'
//! reconnection backoffs. `Poll::poll` sleeps until the earliest.
//!
//! Each connection keeps at most one live entry, for its earliest deadline. When a deadline
//! moves later (data arrived, so the keep-alive ping is due later), the heap is not touched:
//! the old entry fires, the loop sees nothing is due yet and pushes the new time. A busy
//! connection therefore costs one heap operation per timeout period, not one per read.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Instant;

use super::commands::SocketId;

/// What a deadline belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Target {
    /// A connection: its id, which holds its slab key (keys are reused; the id tells a
    /// stale entry).
    Conn(SocketId),
    /// A client waiting to connect again: its key among the loop's waiting clients.
    Reconnect(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Entry {
    at: Instant,
    target: Target,
}

#[derive(Debug, Default)]
pub(crate) struct Timers {
    heap: BinaryHeap<Reverse<Entry>>,
}

impl Timers {
    pub(crate) fn schedule(&mut self, at: Instant, target: Target) {
        self.heap.push(Reverse(Entry { at, target }));
    }

    /// The earliest scheduled time.
    pub(crate) fn next(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse(entry)| entry.at)
    }

    /// Removes and returns the earliest entry if it is due at `now`.
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<(Instant, Target)> {
        match self.heap.peek() {
            Some(Reverse(entry)) if entry.at <= now => {
                self.heap.pop().map(|Reverse(e)| (e.at, e.target))
            }
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
    #[test]
    fn an_entry_is_32_bytes() {
        assert_eq!(std::mem::size_of::<super::Entry>(), 32);
    }

    use super::*;
    use std::time::Duration;

    #[test]
    fn pops_in_time_order_only_when_due_whatever_the_target() {
        let start = Instant::now();
        let mut timers = Timers::default();
        let id = SocketId::new(0, 1, 3);
        timers.schedule(start + Duration::from_millis(30), Target::Conn(id));
        timers.schedule(start + Duration::from_millis(10), Target::Reconnect(1));
        timers.schedule(start + Duration::from_millis(20), Target::Reconnect(2));
        assert_eq!(timers.next(), Some(start + Duration::from_millis(10)));
        assert_eq!(timers.pop_due(start), None);
        let due: Vec<Target> =
            std::iter::from_fn(|| timers.pop_due(start + Duration::from_millis(25)))
                .map(|(_, target)| target)
                .collect();
        assert_eq!(due, [Target::Reconnect(1), Target::Reconnect(2)]);
        assert_eq!(timers.len(), 1);
        assert_eq!(
            timers.pop_due(start + Duration::from_secs(1)),
            Some((start + Duration::from_millis(30), Target::Conn(id)))
        );
    }
}
