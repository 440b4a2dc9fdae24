//! The kernels chosen at run time (x86-64 with `std`), and the safe ways into them.
//!
//! Each kernel is an `unsafe fn` compiled for its CPU features; this file is where the
//! [detection](detect) is checked before one is called. The line scan's callers hold an
//! [`Avx512`] token instead, which only the detection makes, so the splitter above calls
//! the scan through plain methods. `../no_runtime.rs` has the same names for every other
//! build.

mod avx2;
mod avx512;
mod avx512_line;
mod detect;
mod ssse3;
mod tables;

use bytes::BytesMut;

use crate::simd::line_scan::LineScan;
use detect::{features, AVX2, AVX512, SSSE3};

pub(crate) use avx512_line::ShortCharBackoff;
#[cfg(test)]
pub(crate) use detect::avx512_tests_can_run;

/// Shortest inputs handed to the vector validators: below these the scalar ASCII skipping is
/// as fast (AVX2's and SSSE3's measured on the `tokens` corpus; AVX-512's set as AVX2's, not
/// measured apart).
const AVX512_MIN_LEN: usize = 64;
const AVX2_MIN_LEN: usize = 64;
const SSSE3_MIN_LEN: usize = 512;

/// Whether `input` is valid UTF-8, by the best vector validator this CPU has for its length;
/// `None` when the scalar one is the best.
#[inline(always)]
pub(super) fn is_utf8(input: &[u8]) -> Option<bool> {
    if input.len() >= AVX512_MIN_LEN && features() & AVX512 != 0 {
        // SAFETY: AVX-512F, BW and VBMI support was just checked; any length is accepted.
        return Some(unsafe { avx512::is_utf8(input) });
    }
    if input.len() >= AVX2_MIN_LEN && features() & AVX2 != 0 {
        // SAFETY: AVX2 support was just checked, and the input is long enough.
        return Some(unsafe { avx2::is_utf8(input) });
    }
    if input.len() >= SSSE3_MIN_LEN && features() & SSSE3 != 0 {
        // SAFETY: SSSE3 support was just checked.
        return Some(unsafe { ssse3::is_utf8(input) });
    }
    None
}

/// Proof that this CPU has AVX-512 F, BW and VBMI: made only by [`Avx512::detect`], and
/// required by the AVX-512 line scan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Avx512(());

impl Avx512 {
    /// The token, when the CPU has the features.
    pub(crate) fn detect() -> Option<Self> {
        (features() & AVX512 != 0).then_some(Avx512(()))
    }

    /// Finds the first CR or LF in `haystack` and checks the bytes before it as UTF-8 in the
    /// same pass (see [`avx512_line`]). `preceding`: the four bytes of the line before
    /// `haystack`, little-endian (zeros at the start of a line).
    #[inline(always)]
    pub(crate) fn scan_line(
        self,
        haystack: &[u8],
        preceding: u32,
        backoff: &mut ShortCharBackoff,
    ) -> LineScan {
        // SAFETY: `self` exists only when the CPU has the features; no copy.
        unsafe {
            avx512_line::scan_line::<false>(haystack, preceding, core::ptr::null_mut(), backoff)
        }
    }

    /// [`scan_line`](Self::scan_line), and in the same pass appends the bytes before the line
    /// end (all of `haystack` when there is none) to `buf`, whose spare capacity must hold
    /// all of `haystack`.
    ///
    /// # Panics
    ///
    /// When `buf` lacks that room (the caller checks first: the check here is then folded
    /// into its own).
    #[inline(always)]
    pub(crate) fn scan_line_into(
        self,
        buf: &mut BytesMut,
        haystack: &[u8],
        preceding: u32,
        backoff: &mut ShortCharBackoff,
    ) -> LineScan {
        let held = buf.len();
        assert!(buf.capacity() - held >= haystack.len());
        let room = buf.spare_capacity_mut().as_mut_ptr().cast::<u8>();
        // SAFETY: `self` exists only when the CPU has the features; `room` is the spare
        // capacity, room for `haystack.len()` bytes (asserted), distinct from `haystack`.
        let scan = unsafe { avx512_line::scan_line::<true>(haystack, preceding, room, backoff) };
        let copied = scan.end.unwrap_or(haystack.len());
        // SAFETY: the scan copied the bytes before the line end, or all of `haystack`.
        unsafe { buf.set_len(held + copied) };
        scan
    }
}

/// A validator's name, and its answer on an input it takes (`None` for one it does not).
#[cfg(test)]
pub(super) type NamedValidator = (&'static str, fn(&[u8]) -> Option<bool>);

/// Every vector validator this CPU has, by name, for the tests: each gives `Some` answer on
/// the inputs it takes.
#[cfg(test)]
pub(super) fn validators() -> alloc::vec::Vec<NamedValidator> {
    let mut found: alloc::vec::Vec<NamedValidator> = alloc::vec::Vec::new();
    if features() & SSSE3 != 0 {
        // SAFETY: SSSE3 support was just checked.
        found.push(("ssse3", |input| Some(unsafe { ssse3::is_utf8(input) })));
    }
    if features() & AVX2 != 0 {
        found.push(("avx2", |input| {
            // SAFETY: AVX2 support was checked above; the length is checked here.
            (input.len() >= 64).then(|| unsafe { avx2::is_utf8(input) })
        }));
    }
    if avx512_tests_can_run() {
        // SAFETY: AVX-512F, BW and VBMI support was just checked.
        found.push(("avx512", |input| Some(unsafe { avx512::is_utf8(input) })));
    }
    found
}
