//! [`Text`]: how an [`Event`](crate::Event) stores its fields.
//!
//! Short values (event types, ids, small data) are kept inline; longer ones share a
//! reference-counted buffer. Copying an inline value costs a 32-byte copy, where cloning or
//! dropping a shared one costs an atomic operation: on streams of small events with ids
//! (every event carries the persisting last event ID) those atomics were a third of the
//! parse time.

use bytes::Bytes;
use core::hash::{Hash, Hasher};

use crate::utf8::Utf8Bytes;

/// Bytes that fit inline. The enum is one word larger than `Utf8Bytes` (rustc does not fit
/// the tag into `Bytes`'s niche), and that word plus the spare bytes hold 38: room for a UUID
/// id, an event type, a short data value.
pub(crate) const INLINE_CAPACITY: usize = 38;

#[derive(Clone)]
pub(crate) enum Text {
    Inline {
        len: u8,
        bytes: [u8; INLINE_CAPACITY],
    },
    Shared(Utf8Bytes),
}

impl Text {
    /// `valid` must be UTF-8 (checked by the caller); `None` when too long for inline.
    #[inline]
    pub(crate) fn inline(valid: &[u8]) -> Option<Self> {
        if valid.len() > INLINE_CAPACITY {
            return None;
        }
        let mut bytes = [0u8; INLINE_CAPACITY];
        bytes[..valid.len()].copy_from_slice(valid);
        Some(Text::Inline {
            len: valid.len() as u8,
            bytes,
        })
    }

    /// Inline when short, else a copy into a new shared buffer.
    pub(crate) fn copy_from_str(s: &str) -> Self {
        Text::inline(s.as_bytes()).unwrap_or_else(|| Text::Shared(Utf8Bytes::copy_from_str(s)))
    }

    #[inline]
    pub(crate) fn as_str(&self) -> &str {
        match self {
            Text::Inline { len, bytes } => {
                let valid = &bytes[..usize::from(*len)];
                // SAFETY: inline bytes are only ever copied from validated UTF-8 (every caller of
                // `inline` has checked it).
                unsafe { core::str::from_utf8_unchecked(valid) }
            }
            Text::Shared(shared) => shared.as_str(),
        }
    }

    /// The value as `Utf8Bytes`: free for shared values, one small allocation for inline ones.
    pub(crate) fn into_utf8_bytes(self) -> Utf8Bytes {
        match self {
            Text::Inline { .. } => {
                Utf8Bytes::from_validated(Bytes::copy_from_slice(self.as_str().as_bytes()))
            }
            Text::Shared(shared) => shared,
        }
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Text {}

impl Hash for Text {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state)
    }
}

impl core::fmt::Debug for Text {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Debug::fmt(self.as_str(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_one_word_bigger_than_utf8_bytes_at_most() {
        let word = core::mem::size_of::<usize>();
        assert!(core::mem::size_of::<Text>() <= core::mem::size_of::<Utf8Bytes>() + word);
        assert_eq!(
            core::mem::size_of::<Option<Text>>(),
            core::mem::size_of::<Text>()
        );
    }

    #[test]
    fn inline_and_shared_compare_by_content() {
        let inline = Text::copy_from_str("update");
        let shared = Text::Shared(Utf8Bytes::from_static("update"));
        assert!(matches!(inline, Text::Inline { .. }));
        assert_eq!(inline, shared);
        assert_eq!(inline.clone().into_utf8_bytes(), "update");
        let long = "x".repeat(INLINE_CAPACITY + 1);
        assert!(matches!(Text::copy_from_str(&long), Text::Shared(_)));
        assert_eq!(Text::copy_from_str(&long).as_str(), long);
        let exact = "y".repeat(INLINE_CAPACITY);
        assert!(matches!(Text::copy_from_str(&exact), Text::Inline { .. }));
    }
}
