//! UTF-8 validation 64 bytes at a time with AVX-512 (F, BW and VBMI), without a branch: the
//! validator for long values, and the check that the line scan in
//! [`avx512_line`](super::avx512_line) runs as it goes. The method is in
//! [`tables`](super::tables).

use core::arch::x86_64::*;

use super::tables::{CURRENT_HIGH, PREV_HIGH, PREV_LOW};

/// `table` four times over: `vpermb` indexes with the low six bits of each byte, so a nibble
/// lookup through a repeated table needs no masking of the two bits above the nibble.
const fn repeated_four_times(table: [u8; 16]) -> [u8; 64] {
    let mut out = [0u8; 64];
    let mut i = 0;
    while i < 64 {
        out[i] = table[i % 16];
        i += 1;
    }
    out
}

static PREV_HIGH_64: [u8; 64] = repeated_four_times(PREV_HIGH);
static PREV_LOW_64: [u8; 64] = repeated_four_times(PREV_LOW);
static CURRENT_HIGH_64: [u8; 64] = repeated_four_times(CURRENT_HIGH);

/// Truth tables for `vpternlog`, whose operands are called A, B and C in that order.
pub(super) const TERN_A: i32 = 0xF0;
pub(super) const TERN_B: i32 = 0xCC;
pub(super) const TERN_C: i32 = 0xAA;

/// The lookup-table method on 64-byte blocks, with no branch: the state of a check that runs
/// over consecutive blocks.
///
/// The AVX2 validator skips all-ASCII groups. On text with a multi-byte character every few
/// dozen bytes, whether a group is ASCII follows no pattern the branch predictor can learn
/// over megabytes of input, and on the `large` bench corpus the mispredictions cost that
/// loop much of its speed (the figures are in `docs/performance.md`). A benchmark that loops
/// over the same megabyte hides this, because the predictor learns the whole input. So this
/// one checks every block: about fifteen instructions per 64 bytes.
pub(super) struct Avx512Utf8 {
    prev_high: __m512i,
    prev_low: __m512i,
    current_high: __m512i,
    /// Where an error class was found, in any block so far.
    error: __m512i,
    /// The last block checked: its last three bytes start characters the next block may end.
    pub(super) previous: __m512i,
}

impl Avx512Utf8 {
    /// A check whose input follows `preceding`: the four bytes before it, little-endian
    /// (zeros at the start of the input); the last three are the ones that count.
    #[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
    #[inline]
    pub(super) fn new(preceding: u32) -> Self {
        let table = |t: &[u8; 64]| {
            // SAFETY: a 64-byte read from a 64-byte array.
            unsafe { _mm512_loadu_si512(t.as_ptr().cast()) }
        };
        Avx512Utf8 {
            prev_high: table(&PREV_HIGH_64),
            prev_low: table(&PREV_LOW_64),
            current_high: table(&CURRENT_HIGH_64),
            error: _mm512_setzero_si512(),
            previous: _mm512_maskz_set1_epi32(1 << 15, preceding as i32),
        }
    }

    /// Checks the next 64 bytes. `counted` selects the positions whose errors count: an
    /// error is found at the first byte that cannot follow the ones before it, so leaving
    /// positions out never hides an error in the others.
    #[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
    #[inline]
    pub(super) fn check(&mut self, block: __m512i, counted: u64) {
        // [previous's last 16 bytes, block's first 48]: each 128-bit lane of the byte shifts
        // below then sees the lane before it.
        let straddle = _mm512_alignr_epi64::<6>(block, self.previous);
        let prev1 = _mm512_alignr_epi8::<15>(block, straddle);
        let prev2 = _mm512_alignr_epi8::<14>(block, straddle);
        let prev3 = _mm512_alignr_epi8::<13>(block, straddle);
        // Shifting 16-bit words leaves a neighbour's bits above each nibble: the repeated
        // tables ignore them.
        let special = _mm512_ternarylogic_epi32::<{ TERN_A & TERN_B & TERN_C }>(
            _mm512_permutexvar_epi8(_mm512_srli_epi16::<4>(prev1), self.prev_high),
            _mm512_permutexvar_epi8(prev1, self.prev_low),
            _mm512_permutexvar_epi8(_mm512_srli_epi16::<4>(block), self.current_high),
        );
        // A third or fourth byte of a character must be a continuation byte; `special` has
        // the high bit there exactly when it is one.
        let must_continue = _mm512_ternarylogic_epi32::<{ (TERN_A | TERN_B) & TERN_C }>(
            _mm512_subs_epu8(prev2, _mm512_set1_epi8((0xE0u8 - 0x80) as i8)),
            _mm512_subs_epu8(prev3, _mm512_set1_epi8((0xF0u8 - 0x80) as i8)),
            _mm512_set1_epi8(0x80u8 as i8),
        );
        let found = _mm512_xor_si512(must_continue, special);
        self.error = _mm512_or_si512(self.error, _mm512_maskz_mov_epi8(counted, found));
        self.previous = block;
    }

    /// Whether no error was found.
    #[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
    #[inline]
    pub(super) fn no_error(&self) -> bool {
        _mm512_test_epi8_mask(self.error, self.error) == 0
    }
}

/// Whether `input` is valid UTF-8, 64 bytes at a time.
///
/// # Safety
///
/// The CPU must support AVX-512F, AVX-512BW and AVX-512VBMI (the caller checks with the
/// cached detection). Any length is accepted.
#[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
pub(super) unsafe fn is_utf8(input: &[u8]) -> bool {
    let mut utf8 = Avx512Utf8::new(0);
    let mut blocks = input.chunks_exact(64);
    for block in &mut blocks {
        // SAFETY: a 64-byte read from a 64-byte chunk of `input`.
        utf8.check(
            unsafe { _mm512_loadu_si512(block.as_ptr().cast()) },
            u64::MAX,
        );
    }
    // The rest, with zeros after it (a masked load reads none of the bytes past the end):
    // the first missing byte of an unfinished character is then a zero, which is caught like
    // an ASCII byte where a continuation byte must be. At most 63 bytes are left, so that zero
    // is always in the block. When nothing is left this checks a block of zeros, which
    // catches an unfinished character at the end of the last full block.
    let rest = blocks.remainder();
    // SAFETY: the mask selects the `rest.len()` bytes of `rest`, and no others are read.
    let last = unsafe { _mm512_maskz_loadu_epi8(low_bits(rest.len()), rest.as_ptr().cast()) };
    utf8.check(last, u64::MAX);
    utf8.no_error()
}

/// A mask of the `count` lowest bits, `count` at most 64.
#[inline(always)]
pub(super) fn low_bits(count: usize) -> u64 {
    u64::MAX.checked_shr(64 - count as u32).unwrap_or(0)
}
