//! UTF-8 validation 16 bytes at a time with SSSE3 (every x86-64 CPU since 2006), for long
//! values on CPUs without AVX2. The method is in [`tables`](super::tables).

use core::arch::x86_64::*;

use super::tables::{CURRENT_HIGH, PREV_HIGH, PREV_LOW};

/// Whether `input` is valid UTF-8.
///
/// # Safety
///
/// The CPU must support SSSE3 (the caller checks with the cached detection).
#[target_feature(enable = "ssse3")]
#[allow(unused_assignments)] // the last `check!` updates state nothing reads afterwards
pub(super) unsafe fn is_utf8(input: &[u8]) -> bool {
    let prev_high = _mm_loadu_si128(PREV_HIGH.as_ptr().cast());
    let prev_low = _mm_loadu_si128(PREV_LOW.as_ptr().cast());
    let current_high = _mm_loadu_si128(CURRENT_HIGH.as_ptr().cast());
    let nibble = _mm_set1_epi8(0x0F);
    // A block ending in the first 1, 2 or 3 bytes of a 2-, 3- or 4-byte character has a
    // byte above these limits in the matching position.
    let incomplete_limits = _mm_setr_epi8(
        -1,
        -1,
        -1,
        -1,
        -1,
        -1,
        -1,
        -1,
        -1,
        -1,
        -1,
        -1,
        -1,
        (0xF0u8 - 1) as i8,
        (0xE0u8 - 1) as i8,
        (0xC0u8 - 1) as i8,
    );
    let third_byte_floor = _mm_set1_epi8((0xE0u8 - 0x80) as i8);
    let fourth_byte_floor = _mm_set1_epi8((0xF0u8 - 0x80) as i8);
    let high_bit = _mm_set1_epi8(0x80u8 as i8);

    let mut error = _mm_setzero_si128();
    let mut previous = _mm_setzero_si128();
    let mut previous_incomplete = _mm_setzero_si128();

    // Branch-free check of one block against the one before it (a macro rather than a closure
    // so the state can also be updated directly between calls).
    macro_rules! check {
        ($block:expr) => {{
            let block: __m128i = $block;
            let prev1 = _mm_alignr_epi8::<15>(block, previous);
            let prev1_high = _mm_and_si128(_mm_srli_epi16::<4>(prev1), nibble);
            let prev1_low = _mm_and_si128(prev1, nibble);
            let block_high = _mm_and_si128(_mm_srli_epi16::<4>(block), nibble);
            let special = _mm_and_si128(
                _mm_and_si128(
                    _mm_shuffle_epi8(prev_high, prev1_high),
                    _mm_shuffle_epi8(prev_low, prev1_low),
                ),
                _mm_shuffle_epi8(current_high, block_high),
            );
            let prev2 = _mm_alignr_epi8::<14>(block, previous);
            let prev3 = _mm_alignr_epi8::<13>(block, previous);
            let must_continue = _mm_or_si128(
                _mm_subs_epu8(prev2, third_byte_floor),
                _mm_subs_epu8(prev3, fourth_byte_floor),
            );
            let must_continue = _mm_and_si128(must_continue, high_bit);
            error = _mm_or_si128(error, _mm_xor_si128(must_continue, special));
            previous_incomplete = _mm_subs_epu8(block, incomplete_limits);
            previous = block;
        }};
    }

    // 64 bytes at a time: an all-ASCII group is skipped with one test (only an unfinished
    // character from before it can be an error there). Testing per 64 rather than per 16
    // bytes keeps the branch predictable on text with a multi-byte character every few dozen
    // bytes, where most groups have one.
    let mut groups = input.chunks_exact(64);
    for group in &mut groups {
        let at = |k: usize| _mm_loadu_si128(group.as_ptr().add(k).cast());
        let (a, b, c, d) = (at(0), at(16), at(32), at(48));
        let any = _mm_or_si128(_mm_or_si128(a, b), _mm_or_si128(c, d));
        if _mm_movemask_epi8(any) == 0 {
            error = _mm_or_si128(error, previous_incomplete);
            previous_incomplete = _mm_setzero_si128();
            previous = d;
        } else {
            check!(a);
            check!(b);
            check!(c);
            check!(d);
        }
    }
    let mut blocks = groups.remainder().chunks_exact(16);
    for block in &mut blocks {
        check!(_mm_loadu_si128(block.as_ptr().cast()));
    }
    // The rest, padded with zeros: an unfinished character at the very end then meets an
    // ASCII byte and is caught like one in the middle (so this runs even when nothing is left).
    let rest = blocks.remainder();
    let mut padded = [0u8; 16];
    padded[..rest.len()].copy_from_slice(rest);
    check!(_mm_loadu_si128(padded.as_ptr().cast()));

    _mm_movemask_epi8(_mm_cmpeq_epi8(error, _mm_setzero_si128())) == 0xFFFF
}
