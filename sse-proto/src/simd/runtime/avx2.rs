//! UTF-8 validation 32 bytes at a time with AVX2, for long values on CPUs without AVX-512.
//! The method is in [`tables`](super::tables).

use core::arch::x86_64::*;

use super::tables::{CURRENT_HIGH, PREV_HIGH, PREV_LOW};

/// For 32-byte blocks: which bytes, in which of the last three positions, start a character
/// that the block does not finish.
static INCOMPLETE_LIMITS_32: [u8; 32] = {
    let mut limits = [0xFFu8; 32];
    limits[29] = 0xF0 - 1;
    limits[30] = 0xE0 - 1;
    limits[31] = 0xC0 - 1;
    limits
};

/// The same algorithm on 32-byte blocks.
///
/// # Safety
///
/// The CPU must support AVX2 (the caller checks with the cached detection), and
/// `input` must be at least 64 bytes long (the last block is read overlapping the ones
/// before it).
#[target_feature(enable = "avx2")]
#[allow(unused_assignments)] // the last `check!` updates state nothing reads afterwards
pub(super) unsafe fn is_utf8(input: &[u8]) -> bool {
    assert!(
        input.len() >= 64,
        "the AVX2 validator needs 64 bytes or more"
    );
    // Shuffles look up within each 128-bit lane, so every table is repeated in both lanes.
    let table = |t: &[u8; 16]| _mm256_broadcastsi128_si256(_mm_loadu_si128(t.as_ptr().cast()));
    let prev_high = table(&PREV_HIGH);
    let prev_low = table(&PREV_LOW);
    let current_high = table(&CURRENT_HIGH);
    let nibble = _mm256_set1_epi8(0x0F);
    let incomplete_limits = _mm256_loadu_si256(INCOMPLETE_LIMITS_32.as_ptr().cast());
    let third_byte_floor = _mm256_set1_epi8((0xE0u8 - 0x80) as i8);
    let fourth_byte_floor = _mm256_set1_epi8((0xF0u8 - 0x80) as i8);
    let high_bit = _mm256_set1_epi8(0x80u8 as i8);

    let mut error = _mm256_setzero_si256();
    let mut previous = _mm256_setzero_si256();
    let mut previous_incomplete = _mm256_setzero_si256();

    macro_rules! check {
        ($block:expr) => {{
            let block: __m256i = $block;
            // [previous's high lane, block's low lane]: what the lane-wise byte shifts need
            // to see across the middle of the register.
            let straddle = _mm256_permute2x128_si256::<0x21>(previous, block);
            let prev1 = _mm256_alignr_epi8::<15>(block, straddle);
            let prev1_high = _mm256_and_si256(_mm256_srli_epi16::<4>(prev1), nibble);
            let prev1_low = _mm256_and_si256(prev1, nibble);
            let block_high = _mm256_and_si256(_mm256_srli_epi16::<4>(block), nibble);
            let special = _mm256_and_si256(
                _mm256_and_si256(
                    _mm256_shuffle_epi8(prev_high, prev1_high),
                    _mm256_shuffle_epi8(prev_low, prev1_low),
                ),
                _mm256_shuffle_epi8(current_high, block_high),
            );
            let prev2 = _mm256_alignr_epi8::<14>(block, straddle);
            let prev3 = _mm256_alignr_epi8::<13>(block, straddle);
            let must_continue = _mm256_or_si256(
                _mm256_subs_epu8(prev2, third_byte_floor),
                _mm256_subs_epu8(prev3, fourth_byte_floor),
            );
            let must_continue = _mm256_and_si256(must_continue, high_bit);
            error = _mm256_or_si256(error, _mm256_xor_si256(must_continue, special));
            previous_incomplete = _mm256_subs_epu8(block, incomplete_limits);
            previous = block;
        }};
    }

    let mut groups = input.chunks_exact(64);
    for group in &mut groups {
        let a = _mm256_loadu_si256(group.as_ptr().cast());
        let b = _mm256_loadu_si256(group.as_ptr().add(32).cast());
        if _mm256_movemask_epi8(_mm256_or_si256(a, b)) == 0 {
            error = _mm256_or_si256(error, previous_incomplete);
            previous_incomplete = _mm256_setzero_si256();
            previous = b;
        } else {
            check!(a);
            check!(b);
        }
    }
    let mut blocks = groups.remainder().chunks_exact(32);
    for block in &mut blocks {
        check!(_mm256_loadu_si256(block.as_ptr().cast()));
    }
    if !blocks.remainder().is_empty() {
        // The last 32 bytes, overlapping what was checked, with the 32 before them as the
        // previous block: checking a byte twice is harmless, and it spares the copy into a
        // padded buffer that made short inputs slow.
        let end = input.as_ptr().add(input.len());
        previous = _mm256_loadu_si256(end.sub(64).cast());
        check!(_mm256_loadu_si256(end.sub(32).cast()));
    }
    // The input must not end inside a character.
    error = _mm256_or_si256(error, previous_incomplete);

    _mm256_movemask_epi8(_mm256_cmpeq_epi8(error, _mm256_setzero_si256())) == -1
}
