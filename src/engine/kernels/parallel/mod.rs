//! Work split across threads: natively candle's barrier pool (its workers spin briefly
//! between jobs, so the many small steps of one token do not pay a sleep and wake each); on
//! wasm32 built with atomics, the web workers that joined [`shared_memory_pool`]; elsewhere
//! on wasm32, in place on the one thread there is.

use std::marker::PhantomData;
use std::ops::Range;

#[cfg(all(target_arch = "wasm32", target_feature = "atomics"))]
pub mod shared_memory_pool;

/// Runs `f` over `0..n` in contiguous ranges that together cover it once: across the
/// threads when `n` is at least `min_split` (below that, waking them costs more than it
/// saves), else as one call on this thread.
pub fn for_ranges(n: usize, min_split: usize, f: impl Fn(Range<usize>) + Sync) {
    if n >= min_split.max(2) {
        #[cfg(not(target_arch = "wasm32"))]
        {
            let pool = candle_core::utils::barrier_pool();
            if pool.n_workers() > 0 {
                // A few ranges per thread, so a thread slowed by other work is helped out.
                pool.execute_chunked(n, f);
                return;
            }
        }
        #[cfg(all(target_arch = "wasm32", target_feature = "atomics"))]
        if shared_memory_pool::run(n, &f) {
            return;
        }
    }
    if n > 0 {
        f(0..n);
    }
}

/// How many threads compute a split job (1 where nothing is split).
pub fn threads() -> usize {
    #[cfg(not(target_arch = "wasm32"))]
    return candle_core::utils::barrier_pool().n_workers() + 1;
    #[cfg(all(target_arch = "wasm32", target_feature = "atomics"))]
    return shared_memory_pool::helpers() + 1;
    #[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
    return 1;
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
