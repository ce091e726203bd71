//! Work split across threads natively (candle's barrier pool, whose workers spin briefly
//! between jobs, so the many small steps of one token do not pay a sleep and wake each) and
//! run in place on wasm32, which has one thread.

use std::marker::PhantomData;
use std::ops::Range;

/// Runs `f` over `0..n` in contiguous ranges that together cover it once: across the
/// native threads when `n` is at least `min_split` (below that, waking them costs more than
/// it saves), else as one call on this thread.
pub fn for_ranges(n: usize, min_split: usize, f: impl Fn(Range<usize>) + Sync) {
    #[cfg(not(target_arch = "wasm32"))]
    {
        let pool = candle_core::utils::barrier_pool();
        if pool.n_workers() > 0 && n >= min_split.max(2) {
            // A few ranges per thread, so a thread slowed by other work is helped out.
            pool.execute_chunked(n, f);
            return;
        }
    }
    let _ = min_split;
    if n > 0 {
        f(0..n);
    }
}

/// A mutable slice whose disjoint parts are written from several threads.
pub struct Disjoint<'a, T> {
    ptr: *mut T,
    len: usize,
    _slice: PhantomData<&'a mut [T]>,
}

// SAFETY: callers of `part` promise that parts in use at the same time do not overlap, so
// this is as safe to share as `&mut [T]` is to send.
unsafe impl<T: Send> Sync for Disjoint<'_, T> {}
unsafe impl<T: Send> Send for Disjoint<'_, T> {}

impl<'a, T> Disjoint<'a, T> {
    pub fn new(slice: &'a mut [T]) -> Self {
        Self { ptr: slice.as_mut_ptr(), len: slice.len(), _slice: PhantomData }
    }

    /// Elements `range` of the slice.
    ///
    /// # Safety
    /// No other part in use at the same time overlaps `range`.
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn part(&self, range: Range<usize>) -> &mut [T] {
        assert!(range.start <= range.end && range.end <= self.len, "part {range:?} of {}", self.len);
        std::slice::from_raw_parts_mut(self.ptr.add(range.start), range.end - range.start)
    }
}
