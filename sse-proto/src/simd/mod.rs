//! The kernels: every loop that uses vector instructions or writes memory through raw
//! pointers, and the one place that picks among them.
//!
//! - `mod.rs` (this file): the dispatcher. [`is_utf8`] picks a validator by length and CPU;
//!   [`find_line_end`] searches a line's start inline and its rest with `memchr2` or the
//!   AVX-512 scan, as the [`LongLineScan`] chosen once per splitter says.
//! - `runtime/`: what needs run-time feature detection (x86-64 with `std`): the detection,
//!   asked once and cached in one atomic (`runtime/detect.rs`); the validators
//!   (`ssse3.rs`, `avx2.rs`, `avx512.rs`, their tables in `tables.rs`) and the AVX-512 line
//!   scan (`avx512_line.rs`). Everywhere else `no_runtime.rs` stands in for it, with the same
//!   names and no kernel, so that no caller repeats the `cfg`.
//! - `sse2.rs`: a line's first bytes, searched inline (x86-64 has SSE2 always, so no
//!   detection); `no_sse2.rs` stands in for it off x86-64.
//! - `scalar.rs`: the portable validator; `copy.rs`: short copies into a `BytesMut`'s spare
//!   room; `line_scan.rs`: the [`LineScan`] answer, a leaf all of them share.
//!
//! The crate's other `unsafe` is `str::from_utf8_unchecked` on bytes already validated, and
//! the encoder's `advance_mut`; none of it is in the line splitter or the parser's loops.
//!
//! # How to change this safely
//!
//! The tests here compare every validator this CPU has with `core::str::from_utf8` on every
//! 1-3 byte combination of edge bytes at every block offset, and under proptest on arbitrary
//! bytes; and [`find_line_end`] with `memchr2` at every position and length. The tests in
//! `runtime/avx512_line.rs` cover the AVX-512 line scan (edge bytes near the block and group
//! edges of 1100-byte lines, in Latin and ASCII text, under backoffs that hand over between
//! the short-character test and the exact check at different groups, compared with
//! `core::str::from_utf8`), and `line.rs`'s `long_line_scans_agree_under_any_chunking`
//! compares the splitter with and without it under random chunkings and checks every
//! "valid" verdict. The AVX-512 tests need an AVX-512 (VBMI) CPU to reach it; elsewhere they
//! pass without testing anything, unless `SSE_PROTO_EXPECT_AVX512` is set (`.ci/run` sets it
//! on a CPU that has the features), which turns that into a failure. The short-character
//! test is a shortcut: a change that makes it refuse too much passes every correctness test
//! and only shows as lost speed, which
//! `the_short_character_test_passes_latin_text_and_refuses_the_rest` guards.

mod copy;
mod line_scan;
mod scalar;

#[cfg(target_arch = "x86_64")]
mod sse2;
#[cfg(not(target_arch = "x86_64"))]
#[path = "no_sse2.rs"]
mod sse2;

#[cfg(all(feature = "std", target_arch = "x86_64"))]
mod runtime;
#[cfg(not(all(feature = "std", target_arch = "x86_64")))]
#[path = "no_runtime.rs"]
mod runtime;

pub(crate) use copy::{append_reserved, append_within_capacity};
pub(crate) use line_scan::LineScan;
#[cfg(test)]
pub(crate) use runtime::avx512_tests_can_run;
pub(crate) use runtime::{Avx512, ShortCharBackoff};
pub(crate) use sse2::INLINE_SCAN_LEN;

/// Whether `input` is valid UTF-8: the same answer as `core::str::from_utf8(input).is_ok()`.
/// Long values (large JSON payloads) go 64, 32 or 16 bytes at a time when the CPU can; below
/// the thresholds the vector set-up costs more than the scalar ASCII skipping.
#[inline]
pub(crate) fn is_utf8(input: &[u8]) -> bool {
    if let Some(valid) = runtime::is_utf8(input) {
        return valid;
    }
    scalar::is_utf8(input)
}

/// How lines longer than the inline scan are searched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LongLineScan {
    /// `memchr2` for the line end; the line's UTF-8 is left to the parser.
    Portable,
    /// One AVX-512 pass finds the line end, checks the UTF-8 before it and, for a line
    /// continued from earlier inputs, copies it into the line buffer.
    Avx512(Avx512),
}

impl LongLineScan {
    /// The best this CPU can do.
    pub(crate) fn detect() -> Self {
        match Avx512::detect() {
            Some(avx512) => LongLineScan::Avx512(avx512),
            None => LongLineScan::Portable,
        }
    }
}

/// Position of the first CR or LF in `haystack`, if any, and whether every byte before it
/// (or every byte, when there is none) is known to be valid UTF-8.
///
/// The first [`INLINE_SCAN_LEN`] bytes are searched inline (`sse2.rs`); a longer line goes on
/// to `memchr2`, or with AVX-512 to the scan that validates the line as it goes.
#[inline(always)]
pub(crate) fn find_line_end(
    haystack: &[u8],
    long_scan: LongLineScan,
    backoff: &mut ShortCharBackoff,
) -> LineScan {
    let ascii_start = match sse2::scan_line_start(haystack) {
        Ok(found) => return found,
        Err(ascii) => ascii,
    };
    let start = INLINE_SCAN_LEN;
    if let LongLineScan::Avx512(avx512) = long_scan {
        // An ASCII start is as good as no start to the UTF-8 check; otherwise check the line
        // from its first byte.
        let from = if ascii_start { start } else { 0 };
        let scan = avx512.scan_line(&haystack[from..], 0, backoff);
        return LineScan {
            end: scan.end.map(|end| from + end),
            valid: scan.valid,
        };
    }
    LineScan {
        end: memchr::memchr2(b'\r', b'\n', &haystack[start..]).map(|at| start + at),
        valid: false,
    }
}

/// Every way of scanning long lines this CPU can run (for the tests).
#[cfg(test)]
pub(crate) fn long_line_scans() -> alloc::vec::Vec<LongLineScan> {
    let mut scans = alloc::vec![LongLineScan::Portable];
    avx512_tests_can_run();
    if LongLineScan::detect() != LongLineScan::Portable {
        scans.push(LongLineScan::detect());
    }
    scans
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn is_utf8_agrees_with_std_on_every_short_sequence_of_interesting_bytes() {
        // Every 1-, 2- and 3-byte sequence over bytes at the edges of the UTF-8 ranges, placed
        // after 0, 7 and 31 ASCII bytes so that each of the word and block paths is entered.
        let edges: alloc::vec::Vec<u8> = [
            0x00u8, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0,
            0xE1, 0xEC, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF,
        ]
        .to_vec();
        for pad in [
            0usize, 7, 13, 14, 15, 16, 29, 30, 31, 32, 33, 62, 63, 64, 77, 93, 94, 95, 96, 125,
            126, 127, 128, 129,
        ] {
            for &a in &edges {
                for &b in &edges {
                    for &c in &edges {
                        for len in 1..=3 {
                            let mut input = alloc::vec![b'x'; pad];
                            input.extend_from_slice(&[a, b, c][..len]);
                            input.extend_from_slice(b"tail-after");
                            assert_validators_agree_with_std(&input);
                            assert_validators_agree_with_std(&input[..pad + len]);
                        }
                    }
                }
            }
        }
        // Four-byte characters, valid and truncated.
        for s in ["🙂", "\u{10FFFF}", "\u{10000}"] {
            let bytes = s.as_bytes();
            assert_validators_agree_with_std(bytes);
            for cut in 1..bytes.len() {
                assert_validators_agree_with_std(&bytes[..cut]);
                assert!(!scalar::is_utf8(&bytes[..cut]));
            }
        }
    }

    #[test]
    fn is_utf8_agrees_with_std_with_each_character_width_across_every_block_boundary() {
        // Every width of character, whole, cut short, with a bad continuation byte and with
        // one continuation byte too many, at every offset around the 16-, 32- and 64-byte
        // block edges, inside inputs long enough for every vector path and ending at or
        // after the character.
        let characters: [&[u8]; 6] = [
            "é".as_bytes(),
            "€".as_bytes(),
            "🙂".as_bytes(),
            "\u{10FFFF}".as_bytes(),
            "\u{FFFD}".as_bytes(),
            "\u{0800}".as_bytes(),
        ];
        for character in characters {
            let mut variants = alloc::vec![character.to_vec()];
            for cut in 1..character.len() {
                variants.push(character[..cut].to_vec());
            }
            for bad in 1..character.len() {
                let mut broken = character.to_vec();
                broken[bad] = b'a';
                variants.push(broken);
            }
            let mut too_long = character.to_vec();
            too_long.push(0x80);
            variants.push(too_long);
            for offset in 0..140 {
                for variant in &variants {
                    let mut input = alloc::vec![b'.'; offset];
                    input.extend_from_slice(variant);
                    assert_validators_agree_with_std(&input);
                    input.extend_from_slice(&[b'.'; 70]);
                    assert_validators_agree_with_std(&input);
                }
            }
        }
    }

    /// The scalar validator, every vector one this CPU has and `is_utf8` all give
    /// `core::str::from_utf8`'s answer.
    fn assert_validators_agree_with_std(input: &[u8]) {
        let expected = core::str::from_utf8(input).is_ok();
        assert_eq!(scalar::is_utf8(input), expected, "scalar on {input:x?}");
        assert_eq!(is_utf8(input), expected, "is_utf8 on {input:x?}");
        for (name, validator) in runtime::validators() {
            if let Some(valid) = validator(input) {
                assert_eq!(valid, expected, "{name} on {input:x?}");
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn is_utf8_agrees_with_std_on_arbitrary_bytes(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200),
            text in "\\PC{0,80}",
            cut in 0usize..400,
        ) {
            assert_validators_agree_with_std(&bytes);
            let text = text.as_bytes();
            assert_validators_agree_with_std(text);
            let cut = cut.min(text.len());
            assert_validators_agree_with_std(&text[..cut]);
            // Long inputs reach the SIMD path: the same text behind an ASCII run.
            let mut long = alloc::vec![b'-'; 600];
            long.extend_from_slice(&bytes);
            assert_validators_agree_with_std(&long);
        }
    }

    #[test]
    fn find_line_end_agrees_with_memchr2_at_every_position_and_length() {
        for scan in long_line_scans() {
            for len in 0..300 {
                let mut haystack = vec![b'x'; len];
                assert_eq!(
                    find_line_end(&haystack, scan, &mut ShortCharBackoff::default()).end,
                    None,
                    "len {len}"
                );
                for at in 0..len {
                    for byte in [b'\r', b'\n'] {
                        haystack[at] = byte;
                        let found =
                            find_line_end(&haystack, scan, &mut ShortCharBackoff::default());
                        assert_eq!(
                            found.end,
                            memchr::memchr2(b'\r', b'\n', &haystack),
                            "{scan:?}, len {len}, {byte} at {at}"
                        );
                        // All ASCII: only lines past the inline scan may be unknown, and
                        // only without AVX-512.
                        assert!(
                            found.valid || (at >= 256 && scan == LongLineScan::Portable),
                            "{scan:?}, len {len}, {byte} at {at}"
                        );
                        haystack[at] = b'x';
                    }
                }
            }
        }
    }

    #[test]
    fn find_line_end_calls_a_line_valid_only_when_it_is() {
        for scan in long_line_scans() {
            for len in 1..300 {
                for end in [0, len / 3, len - 1] {
                    for bad_at in 0..len {
                        if bad_at == end {
                            continue;
                        }
                        // A lone continuation byte, never valid.
                        let mut haystack = vec![b'x'; len];
                        haystack[end] = b'\n';
                        haystack[bad_at] = 0x80;
                        let found =
                            find_line_end(&haystack, scan, &mut ShortCharBackoff::default());
                        assert_eq!(found.end, Some(end));
                        // Sound everywhere; exact within the inline scan on x86-64, and
                        // everywhere with AVX-512.
                        let before_end = bad_at < end;
                        let context = alloc::format!("{scan:?}, len {len}, end {end}, at {bad_at}");
                        assert!(!(found.valid && before_end), "{context}");
                        if cfg!(target_arch = "x86_64")
                            && (end < 256 || scan != LongLineScan::Portable)
                        {
                            assert_eq!(found.valid, !before_end, "{context}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn find_line_end_without_a_line_end_allows_a_character_cut_at_the_end() {
        for scan in long_line_scans() {
            for len in [5, 20, 255, 256, 257, 300, 700] {
                for cut in ["é", "€", "🙂"] {
                    let character = cut.as_bytes();
                    for keep in 1..character.len() {
                        let mut haystack = "ü".repeat(len / 2).into_bytes();
                        haystack.extend_from_slice(&character[..keep]);
                        let found =
                            find_line_end(&haystack, scan, &mut ShortCharBackoff::default());
                        assert_eq!(found.end, None);
                        if scan != LongLineScan::Portable && haystack.len() > 256 {
                            assert!(found.valid, "{scan:?}, len {len}, {keep} of {cut}");
                        }
                        // A bad byte before the cut character is never let through.
                        haystack[0] = 0xFF;
                        assert!(
                            !find_line_end(&haystack, scan, &mut ShortCharBackoff::default()).valid
                        );
                    }
                }
            }
        }
    }
}
