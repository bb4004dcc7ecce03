//! A global allocator that counts, per thread, the heap bytes live and the most that were
//! live at once: each test runs on a thread of its own, so tests of one binary running in
//! parallel do not blur each other's figures. Declare it in the test binary with
//! `#[global_allocator] static ALLOCATOR: support::counting::Counting = support::counting::Counting;`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

pub struct Counting;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn add(bytes: isize) {
    // `try_with`: a thread being torn down has no counters left; its frees are not counted.
    let _ = LIVE.try_with(|live| {
        let now = live.get() + bytes;
        live.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

// SAFETY: forwards every call to the system allocator unchanged; the counters are
// const-initialized thread locals without destructors, which neither allocate nor unwind.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        add(layout.size() as isize);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        add(-(layout.size() as isize));
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        add(new_size as isize - layout.size() as isize);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Heap bytes this thread has live now.
pub fn live() -> isize {
    LIVE.with(Cell::get)
}

/// Runs `work` and returns its result and the most heap bytes this thread had live during
/// it, beyond what it had live before.
pub fn peak_during<T>(work: impl FnOnce() -> T) -> (T, isize) {
    let before = live();
    PEAK.with(|peak| peak.set(before));
    let result = work();
    (result, PEAK.with(Cell::get) - before)
}

/// The heap bytes dropping `value` frees.
pub fn freed_by_dropping<T>(value: T) -> isize {
    let before = live();
    drop(value);
    before - live()
}
