//! Bytes to lines: the first stage of the WHATWG "Parsing an event stream" algorithm.
//!
//! <https://html.spec.whatwg.org/multipage/server-sent-events.html#parsing-an-event-stream>
//!
//! # How to change this safely
//!
//! Everything here must give the same lines whatever the chunking of the input; the spec
//! tests run each vector whole, byte by byte and split at every point, and the fuzz target
//! `parse_split` compares chunkings, so run both after any change. The invariants:
//!
//! - `partial` is empty exactly when the splitter is at the start of a line (or discarding);
//!   it never holds more than `max_line_len` bytes. A line finished in `partial` is cut off
//!   and handed over as `Bytes` (`Next::Assembled`).
//! - A CR ends its line at once. If it was the last byte seen, `skip_lf` remembers to drop an
//!   LF that starts the next input, so CR|LF split across chunks is one line end.
//! - The BOM is matched byte by byte only before the first line; a partial match that fails
//!   is given back as ordinary text at the start of the first line.
//! - Every input byte is looked at once by `memchr2` and copied at most once (into
//!   `partial`), so the work is linear in the input however it is chunked.

use bytes::{Bytes, BytesMut};

use crate::simd::{
    append_within_capacity, find_line_end, Avx512, LineScan, LongLineScan, ShortCharBackoff,
    INLINE_SCAN_LEN,
};

const BOM: [u8; 3] = [0xEF, 0xBB, 0xBF];

/// A `partial` buffer larger than this is let go once its line is done, so one huge line does
/// not pin its memory for the life of the connection.
const KEEP_PARTIAL_CAPACITY: usize = 1 << 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Bom {
    /// Still at the very start of the stream, this many BOM bytes matched so far.
    Pending(u8),
    /// The BOM was dropped, or the stream did not start with one.
    Resolved,
}

/// What [`LineSplitter::next_line`] found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Next<'a> {
    /// A complete line, without its terminator, lying in the input; `true` when it was seen
    /// to be valid UTF-8 while its end was searched for (`false` means not known), which
    /// spares the validation of its value.
    Line(&'a [u8], bool),
    /// A complete line assembled from several inputs, handed over as owned bytes so that the
    /// parser can keep a data value from it without another copy. Whether it is known valid
    /// UTF-8 is [`LineSplitter::assembled_valid`] (a flag here made the returned value an
    /// odd shape, and copying it stalled on store forwarding at 1-byte chunks).
    Assembled(Bytes),
    /// A line longer than the limit ended; its bytes were discarded as they arrived.
    TooLong { len: usize },
    /// The input is used up without completing a line.
    NeedData,
}

#[derive(Clone, Debug)]
pub(crate) struct LineSplitter {
    bom: Bom,
    skip_lf: bool,
    partial: BytesMut,
    /// Whether every byte in `partial` went through one chain of UTF-8 checks that found no
    /// error (a character cut at its end aside); `false` when not known.
    partial_valid: bool,
    /// Length of the last line assembled in `partial` (up to the capacity kept): the room
    /// the next long line will likely need.
    last_assembled_len: usize,
    /// See [`assembled_valid`](Self::assembled_valid).
    assembled_valid: bool,
    long_scan: LongLineScan,
    /// Kept across lines: the kind of text a stream carries seldom changes.
    short_char_backoff: ShortCharBackoff,
    /// Length seen so far of an over-long line whose bytes are being skipped.
    discarding: Option<usize>,
    max_line_len: usize,
    /// Bytes scanned plus bytes copied: a deterministic measure of work for the tests that
    /// prove linear time.
    work: u64,
}

impl LineSplitter {
    pub(crate) fn new(max_line_len: usize) -> Self {
        Self::with_long_line_scan(max_line_len, LongLineScan::detect())
    }

    /// A splitter with the given way of scanning long lines (the tests compare them).
    pub(crate) fn with_long_line_scan(max_line_len: usize, long_scan: LongLineScan) -> Self {
        LineSplitter {
            bom: Bom::Pending(0),
            skip_lf: false,
            partial: BytesMut::new(),
            partial_valid: false,
            last_assembled_len: 0,
            assembled_valid: false,
            long_scan,
            short_char_backoff: ShortCharBackoff::default(),
            discarding: None,
            max_line_len,
            work: 0,
        }
    }

    /// Back to the start of a new stream (a BOM is allowed again); the limit is kept.
    pub(crate) fn reset(&mut self) {
        let (max_line_len, long_scan) = (self.max_line_len, self.long_scan);
        let mut partial = core::mem::take(&mut self.partial);
        *self = LineSplitter::with_long_line_scan(max_line_len, long_scan);
        partial.clear();
        if partial.capacity() <= KEEP_PARTIAL_CAPACITY {
            self.partial = partial;
        }
    }

    pub(crate) fn buffered_len(&self) -> usize {
        self.partial.len()
    }

    pub(crate) fn allocated_len(&self) -> usize {
        self.partial.capacity()
    }

    /// Whether the line last handed over as [`Next::Assembled`] is known to be valid UTF-8.
    pub(crate) fn assembled_valid(&self) -> bool {
        self.assembled_valid
    }

    pub(crate) fn work(&self) -> u64 {
        self.work
    }

    /// Finds the next line in `input` (continuing a line begun in earlier inputs).
    ///
    /// Returns how many bytes of `input` were consumed and what was found. `NeedData` always
    /// consumes the whole input.
    #[inline(always)]
    pub(crate) fn next_line<'a>(&mut self, input: &'a [u8]) -> (usize, Next<'a>) {
        let mut pos = 0;
        if let Bom::Pending(matched) = self.bom {
            let mut matched = usize::from(matched);
            while matched < BOM.len() && pos < input.len() && input[pos] == BOM[matched] {
                matched += 1;
                pos += 1;
            }
            if matched == BOM.len() {
                self.bom = Bom::Resolved;
            } else if pos == input.len() {
                // Still a prefix of the BOM (or empty input): wait for the next byte.
                self.bom = Bom::Pending(matched as u8);
                return (pos, Next::NeedData);
            } else {
                // Not a BOM after all: the bytes matched so far are ordinary text.
                self.bom = Bom::Resolved;
                self.partial.extend_from_slice(&BOM[..matched]);
            }
        }
        if self.skip_lf && pos < input.len() {
            self.skip_lf = false;
            if input[pos] == b'\n' {
                pos += 1;
            }
        }
        let rest = &input[pos..];
        if let LongLineScan::Avx512(avx512) = self.long_scan {
            if !self.partial.is_empty()
                && self.discarding.is_none()
                // A short piece is quicker the other way, unless the check begun on a long
                // line's first bytes is to be carried to its end (a short line is checked
                // again more cheaply than a vector call per input byte).
                && (rest.len() >= 64 || (self.partial_valid && self.partial.len() >= 256))
                && self.partial.len() + rest.len() <= self.max_line_len
            {
                return self.continue_line_avx512(avx512, pos, rest);
            }
        }
        // Every event ends with a blank line, found at its first byte: skip the scan call.
        let found = match rest.first() {
            Some(b'\n' | b'\r') => LineScan {
                end: Some(0),
                valid: true,
            },
            _ => find_line_end(rest, self.long_scan, &mut self.short_char_backoff),
        };
        let (Some(end), valid) = (found.end, found.valid) else {
            self.work += rest.len() as u64;
            let valid = found.valid || self.check_line_start(rest);
            self.hold_unterminated(rest, valid);
            return (input.len(), Next::NeedData);
        };
        self.work += end as u64 + 1;
        let terminator_len = terminator_len(rest, end).unwrap_or_else(|| {
            // A CR that ends the input ends the line now; an LF may still follow it.
            self.skip_lf = true;
            1
        });
        let consumed = pos + end + terminator_len;
        let line = &rest[..end];
        if let Some(seen) = self.discarding.take() {
            return (consumed, Next::TooLong { len: seen + end });
        }
        if self.partial.is_empty() {
            if line.len() > self.max_line_len {
                return (consumed, Next::TooLong { len: line.len() });
            }
            return (consumed, Next::Line(line, valid));
        }
        let len = self.partial.len() + line.len();
        if len > self.max_line_len {
            self.clear_partial();
            return (consumed, Next::TooLong { len });
        }
        self.work += line.len() as u64;
        extend_bounded(&mut self.partial, line, self.max_line_len);
        let assembled = self.take_assembled();
        // The bytes held were checked, if at all, apart from this end of the line.
        self.assembled_valid = false;
        (consumed, Next::Assembled(assembled))
    }

    /// [`next_line`](Self::next_line) for a line begun in earlier inputs, with AVX-512: one
    /// pass over `rest` (the input from `pos`) finds the line end, checks its UTF-8 following
    /// the bytes held, and copies it into `partial` when it has the room. The caller checked
    /// that all of `rest` fits within the line limit.
    ///
    /// Out of line: it is the long-line path, and the parsing loops that inline `next_line`
    /// stay small without it.
    #[inline(never)]
    fn continue_line_avx512<'a>(
        &mut self,
        avx512: Avx512,
        pos: usize,
        rest: &'a [u8],
    ) -> (usize, Next<'a>) {
        let held = self.partial.len();
        // The last bytes held, read with one load when there are four (built byte by byte,
        // then read as a word, they stalled on store forwarding).
        let preceding = match self.partial.get(held.wrapping_sub(4)..) {
            Some(&[a, b, c, d]) => u32::from_le_bytes([a, b, c, d]),
            _ => self
                .partial
                .iter()
                .fold(0, |word, &byte| word >> 8 | u32::from(byte) << 24),
        };
        let scan = if self.partial.capacity() - held >= rest.len() {
            avx512.scan_line_into(
                &mut self.partial,
                rest,
                preceding,
                &mut self.short_char_backoff,
            )
        } else {
            // Growing for all of `rest` when the line may end in its first bytes would
            // allocate for nothing: find the end first, then grow for what it takes.
            let scan = avx512.scan_line(rest, preceding, &mut self.short_char_backoff);
            let taken = &rest[..scan.end.unwrap_or(rest.len())];
            extend_bounded(&mut self.partial, taken, self.max_line_len);
            scan
        };
        let Some(end) = scan.end else {
            self.partial_valid &= scan.valid;
            self.work += 2 * rest.len() as u64;
            return (pos + rest.len(), Next::NeedData);
        };
        self.work += 2 * end as u64 + 1;
        let terminator_len = terminator_len(rest, end).unwrap_or_else(|| {
            self.skip_lf = true;
            1
        });
        self.assembled_valid = self.partial_valid && scan.valid;
        let assembled = self.take_assembled();
        (pos + end + terminator_len, Next::Assembled(assembled))
    }

    /// The next line when it is a plain data line lying whole at the start of `input`:
    /// `data:`, known valid UTF-8, within the line limit, ended by LF or CRLF or a CR that is
    /// not the last byte, with the splitter between lines. Returns its value (after `data:` and one
    /// space) and the bytes it takes with its terminator, which the caller then
    /// [`skips`](Self::skip_plain_line). Nothing is changed but the scan's backoff: `None`
    /// leaves the line to [`next_line`](Self::next_line).
    ///
    /// Runs of data lines are the bulk of multi-line events, and taking them in a tight loop
    /// skips the general path's state checks and field dispatch.
    #[inline(always)]
    pub(crate) fn peek_plain_data_line<'a>(
        &mut self,
        input: &'a [u8],
    ) -> Option<(&'a [u8], usize)> {
        if self.skip_lf
            || !self.partial.is_empty()
            || self.discarding.is_some()
            || self.bom != Bom::Resolved
            || !input.starts_with(b"data:")
        {
            return None;
        }
        let LineScan {
            end: Some(end),
            valid: true,
        } = find_line_end(input, self.long_scan, &mut self.short_char_backoff)
        else {
            return None;
        };
        if end > self.max_line_len {
            return None;
        }
        let taken = end + terminator_len(input, end)?;
        Some((strip_one_space(&input[5..end]), taken))
    }

    /// Accounts for a line [`peek_plain_data_line`](Self::peek_plain_data_line) found, which
    /// the caller took; `taken` as it returned.
    #[inline(always)]
    pub(crate) fn skip_plain_line(&mut self, taken: usize) {
        self.work += taken as u64;
    }

    /// Takes all of a short `input` that continues the line being assembled without ending
    /// it, when nothing else is pending (no CR to pair, no over-long line): the whole work of
    /// a byte-at-a-time feed, done without the general path. `false`: nothing was taken.
    #[inline(always)]
    pub(crate) fn try_continue_line(&mut self, input: &[u8]) -> bool {
        const SHORT: usize = 16;
        // A non-empty `partial` also means the BOM is settled.
        if input.len() > SHORT
            || self.partial.is_empty()
            || self.skip_lf
            || self.discarding.is_some()
            || self.partial.len() + input.len() > self.max_line_len
            || input.iter().any(|&byte| byte == b'\r' || byte == b'\n')
            || !append_within_capacity(&mut self.partial, input)
        {
            return false;
        }
        self.work += input.len() as u64;
        self.partial_valid = false;
        true
    }

    /// Whether `start`, the first bytes of a line the input does not finish, is valid UTF-8
    /// so far, when the scan that found no line end in it could not say (it was short and not
    /// ASCII). Only the AVX-512 scan can follow the check into the next input, so only then
    /// is it worth doing; once per line. A longer `start` had the AVX-512 scan's own verdict
    /// (an error was found: checking again would only find it again), and a line being
    /// discarded needs none.
    #[cold]
    #[inline(never)]
    fn check_line_start(&mut self, start: &[u8]) -> bool {
        match self.long_scan {
            LongLineScan::Avx512(avx512)
                if self.partial.is_empty()
                    && self.discarding.is_none()
                    && start.len() < INLINE_SCAN_LEN =>
            {
                avx512
                    .scan_line(start, 0, &mut self.short_char_backoff)
                    .valid
            }
            _ => false,
        }
    }

    /// The line assembled in `partial`, cut off from it.
    #[inline(always)]
    fn take_assembled(&mut self) -> Bytes {
        let assembled = self.partial.split().freeze();
        if self.partial.capacity() > KEEP_PARTIAL_CAPACITY {
            self.partial = BytesMut::new();
        }
        self.last_assembled_len = assembled.len().min(KEEP_PARTIAL_CAPACITY);
        assembled
    }

    /// Keeps the start of a line that the input did not finish, within the line limit;
    /// `valid` as [`find_line_end`] said of `piece`.
    fn hold_unterminated(&mut self, piece: &[u8], valid: bool) {
        // A check of `piece` alone says nothing of it following bytes already held.
        self.partial_valid = valid && self.partial.is_empty();
        if let Some(seen) = &mut self.discarding {
            *seen += piece.len();
            return;
        }
        let len = self.partial.len() + piece.len();
        if len > self.max_line_len {
            self.discarding = Some(len);
            self.clear_partial();
            return;
        }
        let wanted = piece.len().max(self.last_assembled_len).max(64);
        if self.partial.is_empty() && self.partial.capacity() < wanted {
            // The last assembled line left only the tail of the allocation behind. Once the
            // caller has dropped that line, the whole allocation can be had again for free
            // now, while nothing is held; later, growing would copy what is held by then.
            // When the caller still holds it, or it is too small, a new one is as cheap now
            // and dearer later, for the same reason. (An eighth more room, for lines that
            // grow slowly, made 64 KiB lines slower to copy at 4 KiB chunks, for no reason
            // found: `docs/performance.md`.)
            let wanted = wanted.min(self.max_line_len).max(piece.len());
            if !self.partial.try_reclaim(wanted) {
                self.partial = BytesMut::with_capacity(wanted);
            }
        }
        self.work += piece.len() as u64;
        if !append_within_capacity(&mut self.partial, piece) {
            extend_bounded(&mut self.partial, piece, self.max_line_len);
        }
    }

    fn clear_partial(&mut self) {
        if self.partial.capacity() > KEEP_PARTIAL_CAPACITY {
            self.partial = BytesMut::new();
        } else {
            self.partial.clear();
        }
    }
}

/// Length of the line terminator starting at `rest[end]`, a CR or LF: 2 for CRLF, else 1;
/// `None` for a CR that is the last byte, whose LF may come with the next input.
#[inline(always)]
fn terminator_len(rest: &[u8], end: usize) -> Option<usize> {
    match (rest[end], rest.get(end + 1)) {
        (b'\n', _) => Some(1),
        (_, Some(b'\n')) => Some(2),
        (_, Some(_)) => Some(1),
        (_, None) => None,
    }
}

/// The field value after the colon, without one leading U+0020 SPACE if there is one.
#[inline(always)]
pub(crate) fn strip_one_space(value: &[u8]) -> &[u8] {
    match value.first() {
        Some(b' ') => &value[1..],
        _ => value,
    }
}

/// Appends `extra`, growing geometrically but never past `ceiling` (the line limit), so the
/// allocation stays within the limit and not merely the contents. When the buffer's room is
/// used up it first reclaims its own allocation (free again once the lines cut from it are
/// dropped), and otherwise allocates exactly the size it wants.
fn extend_bounded(buf: &mut BytesMut, extra: &[u8], ceiling: usize) {
    let needed = buf.len() + extra.len();
    if needed > buf.capacity() {
        let target = needed.max(buf.len().saturating_mul(2)).max(64);
        let target = target.min(ceiling).max(needed);
        if !buf.try_reclaim(target - buf.len()) {
            let mut grown = BytesMut::with_capacity(target);
            grown.extend_from_slice(buf);
            *buf = grown;
        }
    }
    buf.extend_from_slice(extra);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simd::long_line_scans;
    use alloc::string::String;
    use alloc::vec;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    /// The lines (or over-long lengths) found, each with the splitter's word on its UTF-8,
    /// which is checked to be sound.
    fn split_all_flagged(
        splitter: &mut LineSplitter,
        chunks: &[&[u8]],
    ) -> Vec<(Result<Vec<u8>, usize>, bool)> {
        let mut out = vec![];
        for chunk in chunks {
            let mut input: &[u8] = chunk;
            loop {
                let (used, next) = splitter.next_line(input);
                let done = match next {
                    Next::Line(line, valid) => {
                        out.push((Ok(line.to_vec()), valid));
                        false
                    }
                    Next::Assembled(line) => {
                        let valid = splitter.assembled_valid();
                        out.push((Ok(line.to_vec()), valid));
                        false
                    }
                    Next::TooLong { len } => {
                        out.push((Err(len), false));
                        false
                    }
                    Next::NeedData => true,
                };
                if let Some((Ok(line), true)) = out.last() {
                    assert!(
                        core::str::from_utf8(line).is_ok(),
                        "{line:x?} called valid UTF-8"
                    );
                }
                input = &input[used..];
                if done {
                    assert!(input.is_empty());
                    break;
                }
            }
        }
        out
    }

    fn split_all(splitter: &mut LineSplitter, chunks: &[&[u8]]) -> Vec<Result<Vec<u8>, usize>> {
        let lines = split_all_flagged(splitter, chunks);
        lines.into_iter().map(|(line, _)| line).collect()
    }

    proptest::proptest! {
        /// Each way of scanning long lines gives the same lines under any chunking, and calls
        /// a line valid UTF-8 only when it is (`split_all_flagged` checks that).
        #[test]
        fn long_line_scans_agree_under_any_chunking(
            pieces in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::string::string_regex("[a-z]{1,90}").unwrap().prop_map(String::into_bytes),
                    proptest::string::string_regex("[é€🙂ü]{1,40}").unwrap().prop_map(String::into_bytes),
                    proptest::string::string_regex("[a-zé]{100,700}").unwrap().prop_map(String::into_bytes),
                    proptest::collection::vec(0x80u8..=0xFF, 1..4),
                    proptest::prop_oneof![proptest::strategy::Just(b"\n".to_vec()), proptest::strategy::Just(b"\r\n".to_vec()), proptest::strategy::Just(b"\r".to_vec())],
                ],
                0..60,
            ),
            cuts in proptest::collection::vec(0usize..3000, 0..8),
            max_line_len in proptest::prop_oneof![proptest::strategy::Just(1usize << 20), 100usize..2000],
        ) {
            let input: Vec<u8> = pieces.concat();
            let mut cuts: Vec<usize> = cuts.into_iter().map(|cut| cut.min(input.len())).collect();
            cuts.sort_unstable();
            let mut chunks = vec![];
            let mut from = 0;
            for cut in cuts.into_iter().chain([input.len()]) {
                chunks.push(&input[from..cut]);
                from = cut;
            }
            let mut results = vec![];
            for scan in long_line_scans() {
                let mut splitter = LineSplitter::with_long_line_scan(max_line_len, scan);
                results.push(split_all(&mut splitter, &chunks));
            }
            let mut whole = LineSplitter::with_long_line_scan(max_line_len, LongLineScan::Portable);
            let expected = split_all(&mut whole, &[&input]);
            for got in results {
                prop_assert_eq!(&got, &expected);
            }
        }
    }

    #[test]
    fn a_long_valid_line_across_inputs_is_known_valid_however_characters_are_cut() {
        let scan = LongLineScan::detect();
        if scan == LongLineScan::Portable {
            return; // Only the AVX-512 scan follows UTF-8 across inputs.
        }
        // Emoji and "€" every 37 bytes keep every group on the exact check; Latin text
        // passes the short-character test, so its groups are copied by that path.
        let mixed = "json {\"text\": \"naïve café 🙂 €\"} ";
        let latin = "json {\"text\": \"naïve café, über straße\"} ";
        for text in [mixed, latin] {
            let mut line = b"data: ".to_vec();
            while line.len() < 20_000 {
                line.extend_from_slice(text.as_bytes());
            }
            line.push(b'\n');
            // A continuation byte where an ASCII byte was: the same line, invalid.
            let mut broken = line.clone();
            let ascii_at = (12_345..).find(|&at| broken[at] == b' ').unwrap();
            broken[ascii_at] = 0x80;
            for chunk_len in [64, 100, 255, 256, 257, 1000, 4096] {
                for start in [0, 1, 2, 3, 7] {
                    for (input, valid) in [(&line, true), (&broken, false)] {
                        let mut splitter = LineSplitter::with_long_line_scan(1 << 20, scan);
                        let mut chunks = vec![&input[..start]];
                        chunks.extend(input[start..].chunks(chunk_len));
                        let got = split_all_flagged(&mut splitter, &chunks);
                        assert_eq!(got.len(), 1);
                        assert_eq!(got[0].0.as_deref(), Ok(&input[..input.len() - 1]));
                        assert_eq!(
                            got[0].1, valid,
                            "{text}: chunks of {chunk_len} after {start}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn cr_at_chunk_end_ends_the_line_and_the_lf_after_it_is_skipped() {
        let mut s = LineSplitter::new(100);
        let got = split_all(&mut s, &[b"a\r", b"\nb\r", b"\r"]);
        assert_eq!(got, vec![Ok(b"a".to_vec()), Ok(b"b".to_vec()), Ok(vec![])]);
    }

    #[test]
    fn partial_bom_is_given_back_as_text() {
        for scan in long_line_scans() {
            let mut s = LineSplitter::with_long_line_scan(1000, scan);
            let mut tail = b"\xBB".to_vec();
            tail.extend_from_slice(&[b'x'; 200]);
            tail.push(b'\n');
            let got = split_all_flagged(&mut s, &[b"\xEF", &tail]);
            let mut expected = b"\xEF".to_vec();
            expected.extend_from_slice(&tail[..tail.len() - 1]);
            // Given back as text, and not valid UTF-8.
            assert_eq!(got, vec![(Ok(expected), false)]);
        }
    }

    #[test]
    fn over_long_line_split_across_inputs_reports_its_full_length() {
        let mut s = LineSplitter::new(4);
        let got = split_all(&mut s, &[b"abc", b"def", b"gh\nok\n"]);
        assert_eq!(got, vec![Err(8), Ok(b"ok".to_vec())]);
        assert!(s.allocated_len() <= 64);
    }
}
