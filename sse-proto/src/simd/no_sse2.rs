//! The names of `sse2.rs` off x86-64: no inline start, the whole line goes to `memchr2`.

use crate::simd::line_scan::LineScan;

/// Nothing is searched inline.
pub(crate) const INLINE_SCAN_LEN: usize = 0;

/// Always `Err`: the (empty) start is all ASCII.
#[inline(always)]
pub(super) fn scan_line_start(_haystack: &[u8]) -> Result<LineScan, bool> {
    Err(true)
}
