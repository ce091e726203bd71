//! The compute threads of a wasm32 build with atomics: web workers that instantiated this
//! module on the same shared memory call [`serve`] and wait here for work, which the thread
//! that runs the model hands out through [`run`].
//!
//! A job is one call of [`run`]: `0..n` cut into a few chunks per thread, claimed one at a
//! time by whoever is free (the caller included), so a thread the system slows down is
//! helped out. One word, [`CLAIM`], holds the job's number, its chunk count and the next
//! chunk: a thread claims a chunk by a compare-and-swap on it, which also proves that the job
//! it reads is the one it claimed from. The caller returns only once every chunk is done, so
//! the job (on the caller's stack) outlives every use of it.

use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicU64, Ordering};

/// Helpers that are serving jobs.
static HELPERS: AtomicU32 = AtomicU32::new(0);
/// Set while a job runs: a nested split (a job's own work asking for threads) runs in place.
static BUSY: AtomicBool = AtomicBool::new(false);
/// The job number, bumped by each [`run`]: helpers watch it, and sleep on it when idle.
static EPOCH: AtomicU32 = AtomicU32::new(0);
/// `epoch << 32 | chunks << 16 | next chunk` of the current job.
static CLAIM: AtomicU64 = AtomicU64::new(0);
/// Chunks of the current job that are finished.
static DONE: AtomicU32 = AtomicU32::new(0);
/// The current job (on its caller's stack); valid to whoever holds an unfinished chunk of it.
static JOB: AtomicPtr<Job<'static>> = AtomicPtr::new(std::ptr::null_mut());

/// Chunks per thread: enough that a late thread costs little, few enough that claiming
/// stays cheap beside the work.
const CHUNKS_PER_THREAD: usize = 4;
/// How long an idle helper spins before it sleeps. The steps of one token come microseconds
/// apart (a sleep and wake each would cost more than many of them take); between replies the
/// helpers sleep and cost nothing.
const SPINS_BEFORE_SLEEP: u32 = 200_000;

struct Job<'a> {
    f: &'a (dyn Fn(Range<usize>) + Sync),
    n: usize,
    chunk: usize,
}

/// Helpers serving jobs now (0 until the first joins).
pub fn helpers() -> usize {
    HELPERS.load(Ordering::Acquire) as usize
}

/// Runs `f` over `0..n` on this thread and the helpers; false (nothing run) when there are
/// no helpers or a job is already running, so the caller runs it in place.
pub fn run(n: usize, f: &(dyn Fn(Range<usize>) + Sync)) -> bool {
    let helpers = helpers();
    if helpers == 0 || BUSY.swap(true, Ordering::Acquire) {
        return false;
    }
    let chunks = n.min((helpers + 1) * CHUNKS_PER_THREAD).min(u16::MAX as usize);
    let chunk = n.div_ceil(chunks);
    let chunks = n.div_ceil(chunk);
    let job = Job { f, n, chunk };
    // SAFETY (of the lifetime cast): the job is read only by holders of an unfinished chunk,
    // and this function returns only after all chunks are finished.
    JOB.store(&job as *const Job<'_> as *mut Job<'static>, Ordering::Release);
    DONE.store(0, Ordering::Relaxed);
    let epoch = EPOCH.load(Ordering::Relaxed).wrapping_add(1);
    CLAIM.store((epoch as u64) << 32 | (chunks as u64) << 16, Ordering::Release);
    EPOCH.store(epoch, Ordering::Release);
    wake_all(&EPOCH);
    work_on(epoch);
    while (DONE.load(Ordering::Acquire) as usize) < chunks {
        std::hint::spin_loop();
    }
    JOB.store(std::ptr::null_mut(), Ordering::Relaxed);
    BUSY.store(false, Ordering::Release);
    true
}

/// Serves jobs on this thread for as long as it lives: what a helper web worker calls once
/// its instance of the module is ready.
pub fn serve() -> ! {
    let mut seen = EPOCH.load(Ordering::Acquire);
    HELPERS.fetch_add(1, Ordering::AcqRel);
    loop {
        let mut spins = 0;
        let epoch = loop {
            let now = EPOCH.load(Ordering::Acquire);
            if now != seen {
                break now;
            }
            if spins < SPINS_BEFORE_SLEEP {
                spins += 1;
                std::hint::spin_loop();
            } else {
                sleep_while(&EPOCH, seen);
            }
        };
        seen = epoch;
        work_on(epoch);
    }
}

/// Claims and runs chunks of job `epoch` until none is left (or a later job has begun).
fn work_on(epoch: u32) {
    loop {
        let claim = CLAIM.load(Ordering::Acquire);
        let (job_epoch, chunks, next) = ((claim >> 32) as u32, (claim >> 16) & 0xffff, claim & 0xffff);
        if job_epoch != epoch || next >= chunks {
            return;
        }
        if CLAIM.compare_exchange_weak(claim, claim + 1, Ordering::AcqRel, Ordering::Relaxed).is_err() {
            continue;
        }
        // SAFETY: chunk `next` of this job is claimed and not finished, so the job is alive
        // and is the one published before the claim word this thread read.
        let job = unsafe { &*JOB.load(Ordering::Acquire) };
        let start = next as usize * job.chunk;
        (job.f)(start..(start + job.chunk).min(job.n));
        DONE.fetch_add(1, Ordering::Release);
    }
}

fn sleep_while(word: &AtomicU32, value: u32) {
    // SAFETY: the pointer is to a live static; wait only reads it.
    unsafe {
        core::arch::wasm32::memory_atomic_wait32(word.as_ptr() as *mut i32, value as i32, -1);
    }
}

fn wake_all(word: &AtomicU32) {
    // SAFETY: as above; notify does not touch the memory.
    unsafe {
        core::arch::wasm32::memory_atomic_notify(word.as_ptr() as *mut i32, u32::MAX);
    }
}
