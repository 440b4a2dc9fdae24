//! The AVX-512 line scan: one pass over a long line finds its end, checks its UTF-8 and, for
//! a line continued from earlier inputs, copies it into the line buffer.
//!
//! `is_x86_feature_detected!` is not called here: the caller holds the detection's word
//! (the [`Avx512`](super::Avx512) token) for every call.

use core::arch::x86_64::*;

use super::avx512::{low_bits, Avx512Utf8, TERN_A, TERN_B, TERN_C};
use crate::simd::line_scan::LineScan;

/// When a long line's scan next tries the short-character test: a backoff kept across calls,
/// so text where it keeps failing (emoji every few hundred bytes, invalid bytes) soon stops
/// paying for it, and Latin or ASCII text soon returns to it. (Text of mostly 3-byte
/// characters, such as CJK, rarely gets that far: a group that follows one ending inside a
/// longer character is not tried at all.)
#[derive(Clone, Copy, Debug)]
pub(crate) struct ShortCharBackoff {
    /// Groups to check the exact way before trying the short-character test again.
    groups_to_skip: u8,
    /// What `groups_to_skip` becomes at the next failure.
    next_skip: u8,
}

impl Default for ShortCharBackoff {
    fn default() -> Self {
        ShortCharBackoff {
            groups_to_skip: 0,
            next_skip: 1,
        }
    }
}

impl ShortCharBackoff {
    /// The longest wait between tries, in 256-byte groups: on text where the test always
    /// fails, one try in 65 groups costs little (`docs/performance.md` has the figure).
    const MAX_SKIP: u8 = 64;

    /// Whether to try the test on this group (counting it if not).
    #[inline(always)]
    fn try_now(&mut self) -> bool {
        if self.groups_to_skip == 0 {
            return true;
        }
        self.groups_to_skip -= 1;
        false
    }

    /// Halving on success and doubling on failure: where the test succeeds more often than
    /// not, it is tried nearly every time; where it fails more often, rarely.
    #[inline(always)]
    fn succeeded(&mut self) {
        self.next_skip = (self.next_skip / 2).max(1);
    }

    #[inline(always)]
    fn failed(&mut self) {
        self.groups_to_skip = self.next_skip;
        // At most 64 before the doubling: no overflow.
        self.next_skip = (self.next_skip * 2).min(Self::MAX_SKIP);
    }
}

/// For each byte: `63 + i`, which picks, from the previous block followed by this one, the
/// byte before byte `i`.
static BYTE_BEFORE_INDEX: [u8; 64] = {
    let mut index = [0u8; 64];
    let mut i = 0;
    while i < 64 {
        index[i] = 63 + i as u8;
        i += 1;
    }
    index
};

/// Bytes per group of the short-character test: four blocks share one branch.
const GROUP: usize = 256;

/// Bit 7 set in each byte that is C0, C1, or E0 and above: a lead byte of a 3- or 4-byte
/// character, or one that is never valid. Flipping bits 1-4 moves exactly these bytes to
/// DE..FF, and the saturating subtraction leaves bit 7 set only there.
#[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
#[inline]
fn long_or_invalid_leads(block: __m512i) -> __m512i {
    _mm512_subs_epu8(
        _mm512_xor_si512(block, _mm512_set1_epi8(0x1E)),
        _mm512_set1_epi8(0x5E),
    )
}

/// Whether the last three bytes of `block` include a byte [`long_or_invalid_leads`] flags:
/// the block after it then needs the exact check.
#[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
#[inline]
fn ends_open_to_long_character(block: __m512i) -> bool {
    let flagged =
        _mm512_test_epi8_mask(long_or_invalid_leads(block), _mm512_set1_epi8(0x80u8 as i8));
    flagged >> 61 != 0
}

/// The short-character test over one group: whether, following `before` (the block before
/// the group), its four blocks hold only valid 2-byte characters and ASCII from 0E up. No
/// byte at or below 0D means no CR (0D) and no LF (0A); a group with a tab or another low
/// control byte is left to the exact check like one with a line end.
///
/// It needs no table and no byte shift but one: a byte is a continuation byte (80..BF)
/// exactly when the byte before it is C0 or above, and no byte is C0, C1 or E0 and above.
/// That is valid UTF-8 as long as none of the last three bytes before the group is C0, C1 or
/// E0 and above (a character it leads could be cut or longer than two bytes), which the
/// caller rules out with [`ends_open_to_long_character`]. Nine operations per block where the exact check
/// takes seventeen, and only one of them on the two shuffle ports that the exact check
/// saturates.
#[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
#[inline]
fn short_characters_only(blocks: &[__m512i; 4], before: __m512i) -> bool {
    // SAFETY: a 64-byte read from a 64-byte array.
    let byte_before_index = unsafe { _mm512_loadu_si512(BYTE_BEFORE_INDEX.as_ptr().cast()) };
    let mut doubt = _mm512_setzero_si512();
    let mut previous = before;
    for &block in blocks {
        let byte_before = _mm512_permutex2var_epi8(previous, byte_before_index, block);
        // Bit 7: the byte is 0D or below (8D minus it does not saturate below 80).
        let low_control = _mm512_subs_epu8(_mm512_set1_epi8(0x8Du8 as i8), block);
        // Bit 7: the byte before is C0 or above (bits 7 and 6 set), so this one must continue
        // it; or this byte is a low control byte, which is never a continuation byte, so
        // the comparison below flags it either way.
        let must_continue = _mm512_ternarylogic_epi32::<{ (TERN_A & TERN_B) | TERN_C }>(
            byte_before,
            _mm512_add_epi8(byte_before, byte_before),
            low_control,
        );
        // Bit 7: a continuation byte (bit 7 set, bit 6 clear) differs from `must_continue`.
        let mismatch = _mm512_ternarylogic_epi32::<{ (TERN_A & !TERN_B) ^ TERN_C }>(
            block,
            _mm512_add_epi8(block, block),
            must_continue,
        );
        doubt = _mm512_ternarylogic_epi32::<{ TERN_A | TERN_B | TERN_C }>(
            doubt,
            mismatch,
            long_or_invalid_leads(block),
        );
        previous = block;
    }
    _mm512_test_epi8_mask(doubt, _mm512_set1_epi8(0x80u8 as i8)) == 0
}

/// Finds the first CR or LF in `haystack` and checks the bytes before it as UTF-8 in the same
/// pass; with `COPY`, also copies them to `copy_to`.
///
/// A line longer than a few hundred bytes was read three times: by `memchr2` for its end,
/// by `memcpy` into the line buffer when it spanned inputs, and by the validator. On 64 KiB
/// lines the first read, from memory, took as long as the validation. One pass reads each
/// byte once. `preceding` holds the four bytes of the line that come before `haystack`,
/// little-endian (zeros at the start of a line), so a character split between inputs is
/// checked whole.
///
/// The exact check (the lookup-table method, and two compares for the line end) keeps the
/// CPU's two shuffle ports busy, well below the speed of `memchr2`. So each 256-byte group
/// is first given the short-character test, which mostly uses other ports and is right for
/// ASCII and Latin-script text. A group it cannot vouch for (a line end, a longer character,
/// an error, a tab) is checked the exact way. `backoff` decides when to try the test, so
/// that text it fails on (CJK, emoji-dense text) loses little. The measurements behind this
/// are in `docs/performance.md` ("`large`: one pass over each byte").
///
/// # Safety
///
/// The CPU must support AVX-512F, AVX-512BW and AVX-512VBMI. With `COPY`, `copy_to` must be
/// writable for `haystack.len()` bytes, not overlapping `haystack`; bytes past the line end
/// (and the terminator) are left as they were.
#[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
#[inline]
pub(super) unsafe fn scan_line<const COPY: bool>(
    haystack: &[u8],
    preceding: u32,
    copy_to: *mut u8,
    backoff: &mut ShortCharBackoff,
) -> LineScan {
    let mut utf8 = Avx512Utf8::new(preceding);
    let len = haystack.len();
    let source = haystack.as_ptr();
    let mut at = 0;
    // Whether the group before passed the short-character test, so ended outside any
    // longer character.
    let mut after_short_only = false;
    while len - at >= GROUP {
        // SAFETY: the GROUP bytes at `at` are inside `haystack`.
        let blocks: [__m512i; 4] =
            core::array::from_fn(|k| unsafe { _mm512_loadu_si512(source.add(at + 64 * k).cast()) });
        let tried =
            backoff.try_now() && (after_short_only || !ends_open_to_long_character(utf8.previous));
        if tried && short_characters_only(&blocks, utf8.previous) {
            if COPY {
                for (k, block) in blocks.into_iter().enumerate() {
                    // SAFETY: within the first `len` bytes of `copy_to` (the caller's contract).
                    unsafe { _mm512_storeu_si512(copy_to.add(at + 64 * k).cast(), block) };
                }
            }
            utf8.previous = blocks[3];
            after_short_only = true;
            backoff.succeeded();
            at += GROUP;
            continue;
        }
        after_short_only = false;
        for (k, block) in blocks.into_iter().enumerate() {
            // SAFETY: the caller's contract, passed on.
            if let Some(found) =
                unsafe { check_block::<COPY>(&mut utf8, block, u64::MAX, at + 64 * k, copy_to) }
            {
                // A line end is no sign of the text to come: no failure counted.
                return found;
            }
        }
        if tried {
            // A longer character, an error or a low control byte.
            backoff.failed();
        }
        at += GROUP;
    }
    while len - at >= 64 {
        // SAFETY: the 64 bytes at `at` are inside `haystack`.
        let block = unsafe { _mm512_loadu_si512(source.add(at).cast()) };
        // SAFETY: the caller's contract, passed on.
        if let Some(found) = unsafe { check_block::<COPY>(&mut utf8, block, u64::MAX, at, copy_to) }
        {
            return found;
        }
        at += 64;
    }
    // The last, short block, read with a mask (which touches no byte outside `haystack`, and
    // makes the bytes after it zeros, never CR or LF).
    let present = low_bits(len - at);
    // SAFETY: `present` covers only bytes inside `haystack`.
    let block = unsafe { _mm512_maskz_loadu_epi8(present, source.add(at).cast()) };
    // SAFETY: the caller's contract, passed on, for the bytes present.
    if let Some(found) = unsafe { check_block::<COPY>(&mut utf8, block, present, at, copy_to) } {
        return found;
    }
    LineScan {
        end: None,
        valid: utf8.no_error(),
    }
}

/// Bit `i` set where byte `i` of `block` is CR or LF.
#[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
#[inline]
fn line_ends(block: __m512i) -> u64 {
    _mm512_cmpeq_epi8_mask(block, _mm512_set1_epi8(b'\r' as i8))
        | _mm512_cmpeq_epi8_mask(block, _mm512_set1_epi8(b'\n' as i8))
}

/// The exact way, for the block at `at` whose bytes `present` are in `haystack` (all 64 but
/// at the end; the others are zeros): the finished scan if the line ends in it; otherwise
/// the block is checked (and copied, with `COPY`) and the scan goes on. At the end, a
/// character cut by the end of `haystack` is not an error yet: only the bytes present count.
///
/// # Safety
///
/// As for [`scan_line`], with the `present` bytes of the block inside `haystack`.
#[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
#[inline]
unsafe fn check_block<const COPY: bool>(
    utf8: &mut Avx512Utf8,
    block: __m512i,
    present: u64,
    at: usize,
    copy_to: *mut u8,
) -> Option<LineScan> {
    let ends = line_ends(block);
    if ends != 0 {
        // SAFETY: the caller's contract, passed on.
        return Some(unsafe { line_end_in_block::<COPY>(utf8, block, ends, at, copy_to) });
    }
    if COPY {
        // SAFETY: within the first `haystack.len()` bytes of `copy_to` (the caller's
        // contract), and only the bytes present.
        unsafe { _mm512_mask_storeu_epi8(copy_to.add(at).cast(), present, block) };
    }
    utf8.check(block, present);
    None
}

/// The end of [`scan_line`] when `block`, at `at`, holds the line end (the lowest bit
/// of `ends`).
///
/// # Safety
///
/// As for `scan_line`, with `at` plus the line end's offset within `haystack`.
#[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
#[inline]
unsafe fn line_end_in_block<const COPY: bool>(
    utf8: &mut Avx512Utf8,
    block: __m512i,
    ends: u64,
    at: usize,
    copy_to: *mut u8,
) -> LineScan {
    let offset = ends.trailing_zeros() as usize;
    let before_end = low_bits(offset);
    if COPY {
        // SAFETY: the bytes before the line end are within `haystack.len()` of `copy_to`.
        unsafe { _mm512_mask_storeu_epi8(copy_to.add(at).cast(), before_end, block) };
    }
    // The bytes from the line end on read as zeros: an unfinished character before the end
    // then meets an ASCII byte, as at the end of the validator (`avx512::is_utf8`).
    utf8.check(_mm512_maskz_mov_epi8(before_end, block), u64::MAX);
    LineScan {
        end: Some(at + offset),
        valid: utf8.no_error(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::detect::avx512_tests_can_run;
    use super::*;
    use alloc::vec::Vec;

    /// Backoffs that make the scan try the short-character test at once, after one group,
    /// after two, and not within the first four (the exact check alone, on the test lines of
    /// 600-1100 bytes): each puts the hand-overs between the test and the exact check at
    /// different groups.
    fn backoffs() -> [ShortCharBackoff; 4] {
        let after_failures = |failures: usize| {
            let mut backoff = ShortCharBackoff::default();
            for _ in 0..failures {
                backoff.failed();
            }
            backoff
        };
        [
            ShortCharBackoff::default(),
            after_failures(1),
            after_failures(2),
            after_failures(3),
        ]
    }

    /// ASCII letters with an "é" every few bytes, as in Latin-script JSON: text the
    /// short-character test passes.
    fn latin_text(len: usize) -> Vec<u8> {
        let mut text = Vec::new();
        let mut state = 7u64;
        while text.len() < len {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            if state >> 61 == 0 {
                text.extend_from_slice("é".as_bytes());
            } else {
                text.push(b'a' + (state >> 33) as u8 % 26);
            }
        }
        text.truncate(len);
        // Not cut inside the last "é".
        if text.last() == Some(&0xC3) {
            text.pop();
            text.push(b'z');
        }
        text
    }

    fn scan(haystack: &[u8], preceding: u32, mut backoff: ShortCharBackoff) -> LineScan {
        // SAFETY: the callers checked the CPU; no copy.
        unsafe { scan_line::<false>(haystack, preceding, core::ptr::null_mut(), &mut backoff) }
    }

    /// The scan's verdict against `core::str::from_utf8`, for a line that ends (exact) or
    /// does not (sound, and exact but for a character cut at the end).
    fn assert_scan_agrees_with_std(haystack: &[u8], context: &dyn core::fmt::Debug) {
        let end = haystack
            .iter()
            .position(|&byte| byte == b'\r' || byte == b'\n');
        let line = &haystack[..end.unwrap_or(haystack.len())];
        let expected = core::str::from_utf8(line);
        for backoff in backoffs() {
            let found = scan(haystack, 0, backoff);
            assert_eq!(found.end, end, "{context:?}");
            match (end, expected) {
                (Some(_), expected) => assert_eq!(found.valid, expected.is_ok(), "{context:?}"),
                (None, Ok(_)) => assert!(found.valid, "{context:?}"),
                (None, Err(error)) => {
                    assert_eq!(found.valid, error.error_len().is_none(), "{context:?}")
                }
            }
        }
    }

    #[test]
    fn the_short_character_test_flags_exactly_c0_c1_and_e0_up() {
        if !avx512_tests_can_run() {
            return;
        }
        for byte in 0..=255u8 {
            // SAFETY: the CPU was checked.
            let flagged = unsafe {
                let flags = long_or_invalid_leads(_mm512_set1_epi8(byte as i8));
                _mm512_test_epi8_mask(flags, _mm512_set1_epi8(0x80u8 as i8)) == u64::MAX
            };
            assert_eq!(
                flagged,
                matches!(byte, 0xC0 | 0xC1 | 0xE0..=0xFF),
                "{byte:#x}"
            );
        }
    }

    /// Every sequence of one or two edge bytes (and of three, from a shorter list) dropped
    /// into Latin text at each offset near a block or group edge: the short-character test's
    /// shortcut must never let an error through, wherever the group boundaries fall.
    #[test]
    fn scan_agrees_with_std_for_edge_bytes_around_block_and_group_edges() {
        if !avx512_tests_can_run() {
            return;
        }
        const EDGES: [u8; 22] = [
            0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0,
            0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF, b'\n', b'\r',
        ];
        const FEW_EDGES: [u8; 9] = [0x41, 0x80, 0xA0, 0xBF, 0xC2, 0xE0, 0xED, 0xF0, 0xF4];
        let near_edges: Vec<usize> = (0..1060)
            .filter(|offset| matches!(offset % 64, 0..=3 | 61..=63) || offset % 256 == 5)
            .collect();
        let mut sequences: Vec<Vec<u8>> = EDGES.iter().map(|&a| alloc::vec![a]).collect();
        for a in EDGES {
            for b in EDGES {
                sequences.push(alloc::vec![a, b]);
            }
        }
        for a in FEW_EDGES {
            for b in FEW_EDGES {
                for c in FEW_EDGES {
                    sequences.push(alloc::vec![a, b, c]);
                }
            }
        }
        for base in [latin_text(1100), alloc::vec![b'a'; 1100]] {
            for sequence in &sequences {
                for &offset in &near_edges {
                    let mut haystack = base.clone();
                    haystack[offset..offset + sequence.len()].copy_from_slice(sequence);
                    assert_scan_agrees_with_std(&haystack, &(sequence, offset));
                }
            }
        }
    }

    /// A group checked the exact way (here because the one before it failed the test and the
    /// backoff skips one) may end inside a longer character or on C0/C1: the group after it
    /// must not take the test then. A review found that deleting the line that forgets a
    /// passed group on the way to the exact check went unnoticed by the other tests.
    #[test]
    fn the_test_is_not_tried_on_a_group_that_starts_inside_a_longer_character() {
        if !avx512_tests_can_run() {
            return;
        }
        let leads: [&[u8]; 10] = [
            b"\xE0\x80",
            b"\xE0\xA0",
            b"\xE2\x82",
            b"\xE2\x82\xAC",
            b"\xED\xA0",
            b"\xF0\x9F\x99\x82",
            b"\xF0\x9F",
            b"\xF4\x90",
            b"\xC0\x80",
            b"\xC1\xBF",
        ];
        for lead in leads {
            for end in 765..772 {
                let mut haystack = alloc::vec![b'a'; 1100];
                // Fails the test in the second group (256-511); the third is then skipped.
                haystack[300..303].copy_from_slice("€".as_bytes());
                haystack[end - lead.len()..end].copy_from_slice(lead);
                assert_scan_agrees_with_std(&haystack, &(lead, end));
                // The same, with the character given all its continuation bytes.
                let width = match lead[0] {
                    0xC0..=0xDF => 2,
                    0xE0..=0xEF => 3,
                    _ => 4,
                };
                let mut finished = haystack.clone();
                finished[end..end + width - lead.len()].fill(0x80);
                assert_scan_agrees_with_std(&finished, &(lead, end, "finished"));
            }
        }
    }

    /// Characters of every width right before and after a group edge, in otherwise
    /// short-character text, and cut between inputs (the `preceding` bytes).
    #[test]
    fn scan_follows_characters_of_every_width_across_group_edges_and_inputs() {
        if !avx512_tests_can_run() {
            return;
        }
        let base = latin_text(1100);
        for character in ["é", "€", "🙂", "\u{10FFFF}", "\u{0800}"] {
            let bytes = character.as_bytes();
            for edge in [256, 512, 768] {
                for shift in 0..6 {
                    let at = edge + shift - 4;
                    let mut haystack = base.clone();
                    // Keep the "é" around it whole.
                    haystack[at - 2..at + bytes.len() + 2].fill(b'x');
                    haystack[at..at + bytes.len()].copy_from_slice(bytes);
                    assert_scan_agrees_with_std(&haystack, &(character, at));
                    for cut in 1..bytes.len() {
                        let mut broken = haystack.clone();
                        broken[at + cut] = b'x';
                        assert_scan_agrees_with_std(&broken, &(character, at, cut));
                    }
                }
            }
            for cut in 1..bytes.len() {
                let mut held = [0u8; 4];
                held[4 - cut..].copy_from_slice(&bytes[..cut]);
                let preceding = u32::from_le_bytes(held);
                let mut rest = bytes[cut..].to_vec();
                rest.extend_from_slice(&base[..600]);
                for backoff in backoffs() {
                    assert!(
                        scan(&rest, preceding, backoff).valid,
                        "{character} cut at {cut}"
                    );
                    // The character left unfinished.
                    assert!(
                        !scan(&base[..600], preceding, backoff).valid,
                        "{character} at {cut}"
                    );
                }
            }
        }
    }

    /// The test is a shortcut only if it passes the text it is meant for.
    #[test]
    fn the_short_character_test_passes_latin_text_and_refuses_the_rest() {
        if !avx512_tests_can_run() {
            return;
        }
        let text = latin_text(4000);
        let group = |haystack: &[u8], at: usize| -> bool {
            // SAFETY: the CPU was checked; the reads are inside `haystack`.
            unsafe {
                let blocks: [__m512i; 4] = core::array::from_fn(|k| {
                    _mm512_loadu_si512(haystack[at + 64 * k..at + 64 * k + 64].as_ptr().cast())
                });
                let before = _mm512_loadu_si512(haystack[at - 64..at].as_ptr().cast());
                short_characters_only(&blocks, before)
            }
        };
        for at in 64..text.len() - GROUP {
            // Not starting or ending inside an "é".
            if text[at] & 0xC0 == 0x80 || text[at + GROUP] & 0xC0 == 0x80 {
                continue;
            }
            assert!(group(&text, at), "at {at}");
        }
        // ASCII around each change, so that the change alone decides.
        let ascii: Vec<u8> = (0..64 + GROUP).map(|i| b'a' + (i % 26) as u8).collect();
        for place in [64, 100, 127, 128, 200, 64 + GROUP - 3] {
            let refused: [&[u8]; 7] = [
                b"\n",
                b"\r",
                b"\t",
                b"\x00",
                "€".as_bytes(),
                b"\xC1\xBF",
                b"\xA9",
            ];
            for bytes in refused {
                let mut changed = ascii.clone();
                changed[place..place + bytes.len()].copy_from_slice(bytes);
                assert!(!group(&changed, 64), "{bytes:x?} at {place}");
            }
            let passed: [&[u8]; 3] = [b"\x0E", b"\x7F", "é".as_bytes()];
            for bytes in passed {
                let mut changed = ascii.clone();
                changed[place..place + bytes.len()].copy_from_slice(bytes);
                assert!(group(&changed, 64), "{bytes:x?} at {place}");
            }
        }
    }

    #[test]
    fn the_backoff_waits_longer_after_each_failure_and_less_after_each_success() {
        let mut backoff = ShortCharBackoff::default();
        assert!(backoff.try_now());
        let mut waits = Vec::new();
        for _ in 0..9 {
            backoff.failed();
            let mut skipped = 0;
            while !backoff.try_now() {
                skipped += 1;
            }
            waits.push(skipped);
        }
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 64, 64, 64]);
        backoff.succeeded();
        backoff.succeeded();
        backoff.failed();
        let mut skipped = 0;
        while !backoff.try_now() {
            skipped += 1;
        }
        assert_eq!(skipped, 16);
    }

    /// The copy writes the bytes before the line end (all of them when there is none) and
    /// nothing else: not the terminator, not past the end of `haystack`, whose length is all
    /// the room the caller promises. Every length up to five blocks, every end position,
    /// every backoff (so both the test's group path and the exact path copy).
    #[test]
    fn scan_copies_the_line_and_writes_nothing_past_it() {
        if !avx512_tests_can_run() {
            return;
        }
        const UNTOUCHED: u8 = 0xAA;
        let text = latin_text(320);
        for len in 0..=text.len() {
            for end in (0..len).map(Some).chain([None]) {
                let mut haystack = text[..len].to_vec();
                if let Some(end) = end {
                    haystack[end] = b'\n';
                }
                for mut backoff in backoffs() {
                    let mut copy = alloc::vec![UNTOUCHED; len + 128];
                    // SAFETY: the CPU was checked; `copy` has room for more than `len` bytes.
                    let scan =
                        unsafe { scan_line::<true>(&haystack, 0, copy.as_mut_ptr(), &mut backoff) };
                    assert_eq!(scan.end, end, "len {len}");
                    let copied = end.unwrap_or(len);
                    assert_eq!(copy[..copied], haystack[..copied], "len {len}, end {end:?}");
                    assert!(
                        copy[copied..].iter().all(|&byte| byte == UNTOUCHED),
                        "len {len}, end {end:?}: written past the line"
                    );
                }
            }
        }
    }
}
