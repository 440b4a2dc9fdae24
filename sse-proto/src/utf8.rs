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
