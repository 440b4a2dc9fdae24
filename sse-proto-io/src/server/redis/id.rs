//! Event ids on a Redis stream: `<epoch>-<ms>-<seq>`, the stream entry id behind the epoch
//! of the data it belongs to.

use core::fmt;

/// A stream entry id, `<ms>-<seq>`: ordered as Redis orders them (milliseconds, then the
/// sequence number).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct EntryId {
    pub(crate) ms: u64,
    pub(crate) seq: u64,
}

impl EntryId {
    /// Before every entry: `XREAD` from here reads the whole stream.
    pub(crate) const ZERO: EntryId = EntryId { ms: 0, seq: 0 };

    /// `<ms>-<seq>` with both parts in decimal digits only (no sign, no spaces), as Redis
    /// writes them.
    pub(crate) fn parse(text: &str) -> Option<EntryId> {
        let (ms, seq) = text.split_once('-')?;
        Some(EntryId {
            ms: digits(ms)?,
            seq: digits(seq)?,
        })
    }
}

impl fmt::Display for EntryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

fn digits(text: &str) -> Option<u64> {
    // `u64::from_str` takes a leading `+`: an id Redis never wrote would then compare equal
    // to one it did.
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// An event id as this backend writes it: the epoch, then the entry id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct EventId<'a> {
    pub(crate) epoch: &'a str,
    pub(crate) entry: EntryId,
}

impl<'a> EventId<'a> {
    /// Longest epoch accepted: ours are 16 hex digits; a little slack for other writers.
    const MAX_EPOCH: usize = 32;

    /// `<epoch>-<ms>-<seq>`, the epoch ASCII letters and digits; `None` for anything else
    /// (an id from another server, a typo, a forgery): such an id is unknown.
    pub(crate) fn parse(text: &'a str) -> Option<EventId<'a>> {
        let (epoch, entry) = text.split_once('-')?;
        if !is_epoch(epoch) {
            return None;
        }
        Some(EventId {
            epoch,
            entry: EntryId::parse(entry)?,
        })
    }
}

impl fmt::Display for EventId<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.epoch, self.entry)
    }
}

/// Whether `epoch` is one this backend could have written (and so may go in an id).
pub(crate) fn is_epoch(epoch: &str) -> bool {
    !epoch.is_empty()
        && epoch.len() <= EventId::MAX_EPOCH
        && epoch.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// A fresh epoch: 16 hex digits from std's randomly keyed hasher (seeded from the OS once
/// per process, then a counter), mixed with the clock and the process id so that two
/// instances started in the same instant differ.
pub(crate) fn fresh_epoch() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    hasher.write_u128(now);
    hasher.write_u32(std::process::id());
    format!("{:016x}", hasher.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_ids_order_as_redis_does() {
        let a = EntryId::parse("1700000000000-9").unwrap();
        let b = EntryId::parse("1700000000001-0").unwrap();
        assert!(a < b);
        assert_eq!(a.to_string(), "1700000000000-9");
        for bad in ["", "1", "1-", "-1", "+1-0", "1-+0", "1-0-0", " 1-0", "a-0"] {
            assert_eq!(EntryId::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn event_ids_carry_the_epoch() {
        let id = EventId::parse("9f3a1c2b7d4e5f60-1700000000000-3").unwrap();
        assert_eq!(id.epoch, "9f3a1c2b7d4e5f60");
        assert_eq!(
            id.entry,
            EntryId {
                ms: 1700000000000,
                seq: 3
            }
        );
        assert_eq!(id.to_string(), "9f3a1c2b7d4e5f60-1700000000000-3");
        for bad in ["", "42", "1-2", "e--1-2", "e-1-2-3", "-1-2", "e_x-1-2"] {
            assert_eq!(EventId::parse(bad), None, "{bad:?}");
        }
        assert_eq!(EventId::parse(&format!("{}-1-2", "e".repeat(33))), None);
    }

    #[test]
    fn fresh_epochs_differ_and_parse() {
        let (a, b) = (fresh_epoch(), fresh_epoch());
        assert_ne!(a, b);
        assert!(is_epoch(&a) && a.len() == 16);
    }
}
