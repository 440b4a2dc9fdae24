//! [`Utf8Bytes`]: reference-counted bytes that are always valid UTF-8.

use alloc::string::String;
use bytes::{BufMut, Bytes, BytesMut};
use core::fmt;
use core::ops::Deref;

/// An immutable, cheaply clonable UTF-8 string backed by [`Bytes`].
///
/// Event fields produced by the parser are cut from its buffers without copying, so they are
/// `Send + 'static`, outlive the chunk they came from, and clone with a reference-count bump.
/// The invariant (the bytes are valid UTF-8) is established by every constructor.
///
/// # Example
///
/// ```
/// use sse_proto::Utf8Bytes;
///
/// let s = Utf8Bytes::from_static("hello");
/// assert_eq!(s.as_str(), "hello");
/// assert_eq!(s.len(), 5); // derefs to `str`
///
/// let lossy = Utf8Bytes::from_utf8_lossy(bytes::Bytes::from_static(b"a\xFFb"));
/// assert_eq!(lossy, "a\u{FFFD}b");
/// ```
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Utf8Bytes(Bytes);

impl Utf8Bytes {
    /// The empty string; allocates nothing.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(sse_proto::Utf8Bytes::new().is_empty());
    /// ```
    #[inline]
    pub const fn new() -> Self {
        Utf8Bytes(Bytes::new())
    }

    /// Wraps a static string without copying or allocating.
    ///
    /// # Example
    ///
    /// ```
    /// let ping = sse_proto::Utf8Bytes::from_static("ping");
    /// assert_eq!(&*ping, "ping");
    /// ```
    #[inline]
    pub const fn from_static(s: &'static str) -> Self {
        Utf8Bytes(Bytes::from_static(s.as_bytes()))
    }

    /// Copies `s` into a new buffer (nothing is allocated for `""`).
    ///
    /// # Example
    ///
    /// ```
    /// let borrowed = String::from("kept");
    /// let kept = sse_proto::Utf8Bytes::copy_from_str(&borrowed);
    /// drop(borrowed);
    /// assert_eq!(kept, "kept");
    /// ```
    pub fn copy_from_str(s: &str) -> Self {
        Utf8Bytes(Bytes::copy_from_slice(s.as_bytes()))
    }

    /// Takes `bytes` as they are when they are valid UTF-8 (no copy); otherwise replaces each
    /// invalid sequence with U+FFFD, as the WHATWG "UTF-8 decode" algorithm does (one
    /// replacement per maximal invalid subpart, like [`String::from_utf8_lossy`]).
    ///
    /// # Example
    ///
    /// ```
    /// use bytes::Bytes;
    /// use sse_proto::Utf8Bytes;
    ///
    /// assert_eq!(Utf8Bytes::from_utf8_lossy(Bytes::from_static(b"ok")), "ok");
    /// assert_eq!(Utf8Bytes::from_utf8_lossy(Bytes::from_static(b"\xE2\x82x")), "\u{FFFD}x");
    /// ```
    pub fn from_utf8_lossy(bytes: Bytes) -> Self {
        if core::str::from_utf8(&bytes).is_ok() {
            return Utf8Bytes(bytes);
        }
        let mut out = BytesMut::with_capacity(bytes.len() + 8);
        push_utf8_lossy(&mut out, &bytes);
        Utf8Bytes(out.freeze())
    }

    /// Validates `bytes` as UTF-8 without copying.
    ///
    /// # Errors
    ///
    /// Returns the bytes back, unchanged, when they are not valid UTF-8.
    ///
    /// # Example
    ///
    /// ```
    /// use bytes::Bytes;
    /// use sse_proto::Utf8Bytes;
    ///
    /// assert!(Utf8Bytes::try_from_bytes(Bytes::from_static(b"fine")).is_ok());
    /// assert!(Utf8Bytes::try_from_bytes(Bytes::from_static(b"\xFF")).is_err());
    /// ```
    pub fn try_from_bytes(bytes: Bytes) -> Result<Self, Bytes> {
        match core::str::from_utf8(&bytes) {
            Ok(_) => Ok(Utf8Bytes(bytes)),
            Err(_) => Err(bytes),
        }
    }

    /// Wraps bytes the caller has already checked.
    ///
    /// Crate-internal: every caller must have validated `bytes` (debug builds check again).
    #[inline]
    pub(crate) fn from_validated(bytes: Bytes) -> Self {
        debug_assert!(core::str::from_utf8(&bytes).is_ok());
        Utf8Bytes(bytes)
    }

    /// The string.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(sse_proto::Utf8Bytes::from("x").as_str(), "x");
    /// ```
    #[inline]
    pub fn as_str(&self) -> &str {
        // SAFETY: every constructor either validates the bytes or builds them from `str`s and
        // from the output of `push_utf8_lossy`, which only writes valid UTF-8.
        unsafe { core::str::from_utf8_unchecked(&self.0) }
    }

    /// The underlying bytes (a cheap clone of the handle, no copy).
    ///
    /// # Example
    ///
    /// ```
    /// let s = sse_proto::Utf8Bytes::from("ab");
    /// assert_eq!(s.as_bytes(), &b"ab"[..]);
    /// ```
    #[inline]
    pub fn as_bytes(&self) -> &Bytes {
        &self.0
    }

    /// Gives up the UTF-8 guarantee and returns the bytes.
    ///
    /// # Example
    ///
    /// ```
    /// let b = sse_proto::Utf8Bytes::from("ab").into_bytes();
    /// assert_eq!(&b[..], b"ab");
    /// ```
    #[inline]
    pub fn into_bytes(self) -> Bytes {
        self.0
    }
}

/// Whether `input` is valid UTF-8: the same answer as `core::str::from_utf8(input).is_ok()`.
///
/// Event streams are mostly ASCII with a sprinkling of multi-byte characters (JSON with
/// accented words, emoji). The standard library's validator drops to a byte-at-a-time path
/// after every non-ASCII character until its reads are aligned again, which made validation
/// 85 % of the parser's time on such text. This one skips ASCII eight bytes at a time from any
/// offset, jumps straight to the first non-ASCII byte of a word, and checks one multi-byte
/// character with the ranges of Unicode Table 3-7 (no overlongs, no surrogates, nothing past
/// U+10FFFF).
#[inline]
pub(crate) fn is_utf8(input: &[u8]) -> bool {
    // Long values (large JSON payloads) go 64, 32 or 16 bytes at a time when the CPU can.
    // Below the thresholds the vector setup costs more than the scalar ASCII skipping.
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if input.len() >= AVX512_MIN_LEN && has_avx512_vbmi() {
        // SAFETY: AVX-512F, BW and VBMI support was just checked; any length is accepted.
        return unsafe { crate::utf8_simd::is_utf8_avx512(input) };
    }
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if input.len() >= AVX2_MIN_LEN && std::is_x86_feature_detected!("avx2") {
        // SAFETY: AVX2 support was just checked, and the input is long enough.
        return unsafe { crate::utf8_simd::is_utf8_avx2(input) };
    }
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if input.len() >= SSSE3_MIN_LEN && std::is_x86_feature_detected!("ssse3") {
        // SAFETY: SSSE3 support was just checked.
        return unsafe { crate::utf8_simd::is_utf8_ssse3(input) };
    }
    is_utf8_scalar(input)
}

/// Shortest inputs handed to the vector validators: below these the scalar ASCII skipping is
/// as fast (AVX2's and SSSE3's measured on the `tokens` corpus; AVX-512's set as AVX2's, not
/// measured apart).
#[cfg(all(feature = "std", target_arch = "x86_64"))]
const AVX512_MIN_LEN: usize = 64;
#[cfg(all(feature = "std", target_arch = "x86_64"))]
const AVX2_MIN_LEN: usize = 64;
#[cfg(all(feature = "std", target_arch = "x86_64"))]
const SSSE3_MIN_LEN: usize = 512;

/// Whether the CPU has everything [`crate::utf8_simd::is_utf8_avx512`] uses.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[inline]
pub(crate) fn has_avx512_vbmi() -> bool {
    std::is_x86_feature_detected!("avx512f")
        && std::is_x86_feature_detected!("avx512bw")
        && std::is_x86_feature_detected!("avx512vbmi")
}

/// For the tests of the AVX-512 paths: whether they can run on this CPU. Without AVX-512
/// VBMI they return early and pass; with `SSE_PROTO_EXPECT_AVX512` set (CI sets it when
/// `/proc/cpuinfo` lists the features) that is a failure instead, so a detection that
/// wrongly says no, leaving the fast paths untested and unused, cannot pass unseen.
#[cfg(all(test, feature = "std", target_arch = "x86_64"))]
pub(crate) fn avx512_tests_can_run() -> bool {
    let available = has_avx512_vbmi();
    assert!(
        available || std::env::var_os("SSE_PROTO_EXPECT_AVX512").is_none(),
        "SSE_PROTO_EXPECT_AVX512 is set, but AVX-512 F, BW and VBMI were not detected"
    );
    available
}

/// The portable validator behind [`is_utf8`].
#[inline]
pub(crate) fn is_utf8_scalar(input: &[u8]) -> bool {
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

/// Appends `input` to `out`, replacing invalid UTF-8 the way the WHATWG decoder does.
pub(crate) fn push_utf8_lossy(out: &mut BytesMut, input: &[u8]) {
    for chunk in input.utf8_chunks() {
        out.put_slice(chunk.valid().as_bytes());
        if !chunk.invalid().is_empty() {
            out.put_slice("\u{FFFD}".as_bytes());
        }
    }
}

/// Length of `input` once invalid sequences are replaced by U+FFFD (3 bytes each).
pub(crate) fn utf8_lossy_len(input: &[u8]) -> usize {
    input
        .utf8_chunks()
        .map(|c| c.valid().len() + if c.invalid().is_empty() { 0 } else { 3 })
        .sum()
}

impl Deref for Utf8Bytes {
    type Target = str;
    #[inline]
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Utf8Bytes {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<[u8]> for Utf8Bytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl core::borrow::Borrow<str> for Utf8Bytes {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl From<&'static str> for Utf8Bytes {
    fn from(s: &'static str) -> Self {
        Utf8Bytes::from_static(s)
    }
}

impl From<String> for Utf8Bytes {
    fn from(s: String) -> Self {
        Utf8Bytes(Bytes::from(s))
    }
}

impl From<&String> for Utf8Bytes {
    fn from(s: &String) -> Self {
        Utf8Bytes(Bytes::copy_from_slice(s.as_bytes()))
    }
}

impl From<alloc::boxed::Box<str>> for Utf8Bytes {
    fn from(s: alloc::boxed::Box<str>) -> Self {
        Utf8Bytes(Bytes::from(s.into_boxed_bytes()))
    }
}

impl From<Utf8Bytes> for Bytes {
    fn from(s: Utf8Bytes) -> Bytes {
        s.0
    }
}

impl PartialEq<str> for Utf8Bytes {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Utf8Bytes {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<Utf8Bytes> for str {
    fn eq(&self, other: &Utf8Bytes) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<Utf8Bytes> for &str {
    fn eq(&self, other: &Utf8Bytes) -> bool {
        *self == other.as_str()
    }
}

impl fmt::Debug for Utf8Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Utf8Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

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
                assert!(!is_utf8_scalar(&bytes[..cut]));
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

    /// The scalar validator, the SIMD one (where the CPU has it) and `is_utf8` all give
    /// `core::str::from_utf8`'s answer.
    fn assert_validators_agree_with_std(input: &[u8]) {
        let expected = core::str::from_utf8(input).is_ok();
        assert_eq!(is_utf8_scalar(input), expected, "scalar on {input:x?}");
        assert_eq!(is_utf8(input), expected, "is_utf8 on {input:x?}");
        #[cfg(all(feature = "std", target_arch = "x86_64"))]
        if std::is_x86_feature_detected!("ssse3") {
            // SAFETY: SSSE3 support was just checked.
            let simd = unsafe { crate::utf8_simd::is_utf8_ssse3(input) };
            assert_eq!(simd, expected, "ssse3 on {input:x?}");
        }
        #[cfg(all(feature = "std", target_arch = "x86_64"))]
        if avx512_tests_can_run() {
            // SAFETY: AVX-512F, BW and VBMI support was just checked.
            let simd = unsafe { crate::utf8_simd::is_utf8_avx512(input) };
            assert_eq!(simd, expected, "avx512 on {input:x?}");
        }
        #[cfg(all(feature = "std", target_arch = "x86_64"))]
        if input.len() >= 64 && std::is_x86_feature_detected!("avx2") {
            // SAFETY: AVX2 support was just checked.
            let simd = unsafe { crate::utf8_simd::is_utf8_avx2(input) };
            assert_eq!(simd, expected, "avx2 on {input:x?}");
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
    fn lossy_matches_std_for_tricky_sequences() {
        let cases: &[&[u8]] = &[
            b"",
            b"plain",
            b"\xFF",
            b"\xE2\x82",
            b"\xE2\x82\xAC",
            b"\xF0\x9F\x98",
            b"a\xC0\xAFb",
            b"\xED\xA0\x80",
            b"\xF4\x90\x80\x80",
        ];
        for case in cases {
            let ours = Utf8Bytes::from_utf8_lossy(Bytes::copy_from_slice(case));
            let std = String::from_utf8_lossy(case).to_string();
            assert_eq!(ours.as_str(), std, "input {case:?}");
            assert_eq!(utf8_lossy_len(case), std.len(), "input {case:?}");
        }
    }
}
