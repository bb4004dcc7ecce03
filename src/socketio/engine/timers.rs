//! The deadlines of an Engine.IO server's sessions (pings, ping timeouts, upgrade and close
//! timeouts), on one thread per server: a heap of deadlines and a condition variable. The
//! sessions are not a loop's (the requests of one session reach any loop), so no loop's
//! timer heap can hold them; one thread per server costs one thread, not one per session.
//!
//! An entry names its target weakly: a session that is gone is skipped. A target keeps at
//! most one live entry (see `Armed` in server.rs): a deadline that moves later leaves the
//! old entry in place, which fires, finds nothing due and arms the new one.

// Input reaches this module: no indexing, unwrap, expect or panic that it could trigger.
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError, Weak};
use std::time::Instant;

struct Entry<T> {
    at: Instant,
    /// Ties broken by order of arrival.
    seq: u64,
    target: Weak<T>,
}

impl<T> PartialEq for Entry<T> {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}

impl<T> Eq for Entry<T> {}

impl<T> PartialOrd for Entry<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<T> Ord for Entry<T> {
    /// Reversed: the heap's top is the earliest.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}

struct Heap<T> {
    entries: BinaryHeap<Entry<T>>,
    seq: u64,
    stopped: bool,
}

struct Shared<T> {
    heap: Mutex<Heap<T>>,
    changed: Condvar,
}

impl<T> Shared<T> {
    fn lock(&self) -> MutexGuard<'_, Heap<T>> {
        self.heap.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The timer thread of one server; dropping this stops it.
pub(crate) struct Timers<T> {
    shared: Arc<Shared<T>>,
}

impl<T: Send + Sync + 'static> Timers<T> {
    /// Starts the thread; `due(target, at)` runs on it for each entry whose time came and
    /// whose target is still alive.
    pub(crate) fn start(
        name: &str,
        due: impl Fn(Arc<T>, Instant) + Send + 'static,
    ) -> std::io::Result<Timers<T>> {
        let shared = Arc::new(Shared {
            heap: Mutex::new(Heap {
                entries: BinaryHeap::new(),
                seq: 0,
                stopped: false,
            }),
            changed: Condvar::new(),
        });
        let thread_shared = shared.clone();
        std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || run(&thread_shared, due))?;
        Ok(Timers { shared })
    }

    /// Runs `due` for `target` at `at` (or soon after).
    pub(crate) fn schedule(&self, at: Instant, target: &Arc<T>) {
        let mut heap = self.shared.lock();
        heap.seq += 1;
        let earliest = heap.entries.peek().is_none_or(|top| at < top.at);
        let seq = heap.seq;
        heap.entries.push(Entry {
            at,
            seq,
            target: Arc::downgrade(target),
        });
        drop(heap);
        if earliest {
            self.shared.changed.notify_one();
        }
    }

    /// Entries waiting (the live ones and those left behind by a deadline moved later).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.shared.lock().entries.len()
    }
}

impl<T> Drop for Timers<T> {
    fn drop(&mut self) {
        self.shared.lock().stopped = true;
        self.shared.changed.notify_one();
    }
}

fn run<T>(shared: &Shared<T>, due: impl Fn(Arc<T>, Instant)) {
    let mut fired = Vec::new();
    loop {
        let mut heap = shared.lock();
        loop {
            if heap.stopped {
                return;
            }
            let now = Instant::now();
            match heap.entries.peek() {
                Some(top) if top.at <= now => break,
                Some(top) => {
                    let wait = top.at - now;
                    heap = shared
                        .changed
                        .wait_timeout(heap, wait)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0;
                }
                None => {
                    heap = shared
                        .changed
                        .wait(heap)
                        .unwrap_or_else(PoisonError::into_inner);
                }
            }
        }
        let now = Instant::now();
        while heap.entries.peek().is_some_and(|top| top.at <= now) {
            if let Some(entry) = heap.entries.pop() {
                fired.push(entry);
            }
        }
        drop(heap);
        for entry in fired.drain(..) {
            if let Some(target) = entry.target.upgrade() {
                due(target, entry.at);
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    #[test]
    fn entries_fire_in_order_and_dead_targets_are_skipped() {
        let (sender, fired) = mpsc::channel();
        let sender = Mutex::new(sender);
        let timers = Timers::start("test-timers", move |target: Arc<u32>, _at| {
            sender.lock().unwrap().send(*target).unwrap();
        })
        .unwrap();
        let now = Instant::now();
        let (first, second, gone) = (Arc::new(1), Arc::new(2), Arc::new(3));
        timers.schedule(now + Duration::from_millis(40), &second);
        timers.schedule(now + Duration::from_millis(20), &gone);
        timers.schedule(now + Duration::from_millis(10), &first);
        drop(gone);
        let patience = Duration::from_secs(10);
        assert_eq!(fired.recv_timeout(patience).unwrap(), 1);
        assert_eq!(fired.recv_timeout(patience).unwrap(), 2);
        assert_eq!(timers.len(), 0);
        assert!(fired.try_recv().is_err());
    }
}
