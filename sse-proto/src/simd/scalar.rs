//! The portable UTF-8 validator: every build has it, and short values use it on every CPU.
//!
//! Event streams are mostly ASCII with a sprinkling of multi-byte characters (JSON with
//! accented words, emoji). The standard library's validator drops to a byte-at-a-time path
//! after every non-ASCII character until its reads are aligned again, which made validation
//! most of the parser's time on such text (`docs/performance.md`). This one skips ASCII eight
//! bytes at a time from any offset, jumps straight to the first non-ASCII byte of a word, and
//! checks one multi-byte character with the ranges of Unicode Table 3-7 (no overlongs, no
//! surrogates, nothing past U+10FFFF).

/// Whether `input` is valid UTF-8: the same answer as `core::str::from_utf8(input).is_ok()`.
#[inline]
pub(super) fn is_utf8(input: &[u8]) -> bool {
    const HIGH_BITS: u64 = 0x8080_8080_8080_8080;
    let len = input.len();
    let mut i = 0;
    while i < len {
        // Four words at a time through long ASCII runs, then one word at a time.
        while i + 32 <= len {
            let w = |k: usize| u64::from_le_bytes(input[i + k..i + k + 8].try_into().unwrap());
            if (w(0) | w(8) | w(16) | w(24)) & HIGH_BITS != 0 {
                break;
            }
            i += 32;
        }
        while i + 8 <= len {
            let word = u64::from_le_bytes(input[i..i + 8].try_into().unwrap());
            let high = word & HIGH_BITS;
            if high != 0 {
                i += (high.trailing_zeros() / 8) as usize;
                break;
            }
            i += 8;
        }
        // Fewer than eight bytes left, or `i` is at a non-ASCII byte.
        while i < len && input[i] < 0x80 {
            i += 1;
        }
        if i == len {
            return true;
        }
        match char_len_if_valid(&input[i..]) {
            Some(n) => i += n,
            None => return false,
        }
    }
    true
}

/// Length of the multi-byte character at the start of `bytes` (which starts with a byte
/// >= 0x80), or `None` when it is not a valid, complete UTF-8 sequence.
#[inline]
fn char_len_if_valid(bytes: &[u8]) -> Option<usize> {
    let continuation = |k: usize| bytes.get(k).is_some_and(|&b| b & 0xC0 == 0x80);
    let second = bytes.get(1).copied().unwrap_or(0);
    match bytes[0] {
        0xC2..=0xDF if continuation(1) => Some(2),
        0xE0 if (0xA0..=0xBF).contains(&second) && continuation(2) => Some(3),
        0xE1..=0xEC | 0xEE..=0xEF if continuation(1) && continuation(2) => Some(3),
        0xED if (0x80..=0x9F).contains(&second) && continuation(2) => Some(3),
        0xF0 if (0x90..=0xBF).contains(&second) && continuation(2) && continuation(3) => Some(4),
        0xF1..=0xF3 if continuation(1) && continuation(2) && continuation(3) => Some(4),
        0xF4 if (0x80..=0x8F).contains(&second) && continuation(2) && continuation(3) => Some(4),
        _ => None,
    }
}
