//! The start of every line scan on x86-64: its first bytes, sixteen at a time with SSE2,
//! which every x86-64 CPU has (so no detection, and `no_std` builds have it too).
//!
//! Most lines are short, and `memchr2`'s per-call set-up was a large share of the parse time
//! on the `multiline` corpus (46-byte lines; `docs/performance.md`). So the first bytes are
//! searched here, inline, and only a line longer than that goes on to `memchr2`, whose AVX2
//! loop then wins, or to the AVX-512 scan that validates the line as it goes. The same loads
//! tell whether the line is ASCII, which is most of the work of validating it as UTF-8.

use core::arch::x86_64::{
    __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
    _mm_setzero_si128,
};

use crate::simd::line_scan::LineScan;

/// How many bytes [`scan_line_start`] searches inline before the rest of the line is handed
/// to `memchr2` or the AVX-512 scan. A shorter input is searched inline only, which tells
/// whether it is ASCII but not whether other text is valid UTF-8.
pub(crate) const INLINE_SCAN_LEN: usize = 256;

/// The 16 bytes at `start`, and bit `i` set when byte `start + i` is CR or LF.
#[inline(always)]
fn load(haystack: &[u8], start: usize) -> (__m128i, u32) {
    assert!(start + 16 <= haystack.len());
    // SAFETY: the assertion keeps the unaligned 16-byte load inside the slice; SSE2 is always
    // available on x86-64.
    unsafe {
        let block = _mm_loadu_si128(haystack.as_ptr().add(start).cast());
        let cr = _mm_cmpeq_epi8(block, _mm_set1_epi8(b'\r' as i8));
        let lf = _mm_cmpeq_epi8(block, _mm_set1_epi8(b'\n' as i8));
        (block, _mm_movemask_epi8(_mm_or_si128(cr, lf)) as u32)
    }
}

/// Whether the bytes OR-ed into `seen`, and those of `block` before its first line end (all
/// of them when `line_ends` is 0), are all ASCII.
#[inline(always)]
fn ascii_until(seen: __m128i, block: __m128i, line_ends: u32) -> bool {
    let below_first_end = line_ends.wrapping_sub(1) & !line_ends;
    // SAFETY: SSE2 is always available on x86-64.
    let (seen_high, block_high) = unsafe {
        (
            _mm_movemask_epi8(seen) as u32,
            _mm_movemask_epi8(block) as u32,
        )
    };
    seen_high | (block_high & below_first_end) == 0
}

/// The scan of `haystack` when it ends within the first [`INLINE_SCAN_LEN`] bytes (a line end
/// there, or a shorter haystack). Otherwise `Err`: whether those bytes are all ASCII.
#[inline(always)]
pub(super) fn scan_line_start(haystack: &[u8]) -> Result<LineScan, bool> {
    let len = haystack.len();
    if len < 16 {
        let mut high = 0;
        for (at, &byte) in haystack.iter().enumerate() {
            if byte == b'\r' || byte == b'\n' {
                return Ok(LineScan {
                    end: Some(at),
                    valid: high < 0x80,
                });
            }
            high |= byte;
        }
        return Ok(LineScan {
            end: None,
            valid: high < 0x80,
        });
    }
    // The blocks without a line end, OR-ed: one instruction per block, where a mask per block
    // cost more than validating the line afterwards.
    // SAFETY: SSE2 is always available on x86-64.
    let mut seen = unsafe { _mm_setzero_si128() };
    let mut start = 0;
    while start < INLINE_SCAN_LEN {
        if start + 16 > len {
            // The last bytes, read as the final 16 (overlapping bytes already known to hold
            // no line end) rather than one at a time.
            let last = len - 16;
            let (block, found) = load(haystack, last);
            if found == 0 {
                return Ok(LineScan {
                    end: None,
                    valid: ascii_until(seen, block, 0),
                });
            }
            return Ok(LineScan {
                end: Some(last + found.trailing_zeros() as usize),
                valid: ascii_until(seen, block, found),
            });
        }
        let (block, found) = load(haystack, start);
        if found != 0 {
            return Ok(LineScan {
                end: Some(start + found.trailing_zeros() as usize),
                valid: ascii_until(seen, block, found),
            });
        }
        // SAFETY: SSE2 is always available on x86-64.
        seen = unsafe { _mm_or_si128(seen, block) };
        start += 16;
    }
    // SAFETY: SSE2 is always available on x86-64.
    Err(unsafe { _mm_movemask_epi8(seen) } == 0)
}
