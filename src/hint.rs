//! Cache prefetch hints: start loading the cache line that holds a value so
//! that a later access finds it there. A hint is not an access: it reads
//! nothing the program sees, never faults and changes no state, so it cannot
//! affect what a run computes, only how long it takes.

/// Asks the CPU to bring every cache line `value` spans into L1.
#[inline(always)]
pub fn prefetch_all<T>(value: &T) {
    let start = (value as *const T).cast::<u8>();
    let mut offset = 0;
    while offset < std::mem::size_of::<T>() {
        prefetch_address(start.wrapping_add(offset));
        offset += 64;
    }
    prefetch_address(start.wrapping_add(std::mem::size_of::<T>().saturating_sub(1)));
}

/// Asks the CPU to bring `value`'s cache line into L1. A no-op on targets
/// without a stable prefetch instruction.
#[inline(always)]
pub fn prefetch<T>(value: &T) {
    prefetch_address((value as *const T).cast::<u8>());
}

/// Asks the CPU to bring the first `max_lines` cache lines of `slice` into
/// L1 (a scan of a longer slice is left to the hardware prefetcher, which
/// follows it once it has started).
#[inline(always)]
pub fn prefetch_lines<T>(slice: &[T], max_lines: usize) {
    let start = slice.as_ptr().cast::<u8>();
    let bytes = std::mem::size_of_val(slice).min(max_lines * 64);
    let mut offset = 0;
    while offset < bytes {
        prefetch_address(start.wrapping_add(offset));
        offset += 64;
    }
}

/// Asks the CPU to bring the line the next push onto `vec` writes into L1
/// (nothing when the push would reallocate).
#[inline(always)]
pub fn prefetch_spare<T>(vec: &Vec<T>) {
    if vec.len() < vec.capacity() {
        prefetch_address(vec.as_ptr().wrapping_add(vec.len()).cast::<u8>());
    }
}

/// `address` lies inside a live value or a vector's spare capacity (the
/// callers above derive it from a reference), though a prefetch would be
/// harmless even if it did not.
#[inline(always)]
fn prefetch_address(address: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: PREFETCHT0 (SSE, part of the x86_64 baseline) is a pure cache
    // hint: it does not read into a register and cannot fault.
    unsafe {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        _mm_prefetch::<_MM_HINT_T0>(address.cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = address;
}
