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
    /// A complete line, without its terminator, lying in the input.
    Line(&'a [u8]),
    /// A complete line assembled from several inputs, handed over as owned bytes so that the
    /// parser can keep a data value from it without another copy.
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
    /// Length seen so far of an over-long line whose bytes are being skipped.
    discarding: Option<usize>,
    max_line_len: usize,
    /// Bytes scanned plus bytes copied: a deterministic measure of work for the tests that
    /// prove linear time.
    work: u64,
}

impl LineSplitter {
    pub(crate) fn new(max_line_len: usize) -> Self {
        LineSplitter {
            bom: Bom::Pending(0),
            skip_lf: false,
            partial: BytesMut::new(),
            discarding: None,
            max_line_len,
            work: 0,
        }
    }

    /// Back to the start of a new stream (a BOM is allowed again); the limit is kept.
    pub(crate) fn reset(&mut self) {
        let max_line_len = self.max_line_len;
        let mut partial = core::mem::take(&mut self.partial);
        *self = LineSplitter::new(max_line_len);
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
        // Every event ends with a blank line, found at its first byte: skip the scan call.
        let found = match rest.first() {
            Some(b'\n' | b'\r') => Some(0),
            _ => find_line_end(rest),
        };
        let Some(end) = found else {
            self.work += rest.len() as u64;
            self.hold_unterminated(rest);
            return (input.len(), Next::NeedData);
        };
        self.work += end as u64 + 1;
        let terminator_len = if rest[end] == b'\n' {
            1
        } else if end + 1 < rest.len() {
            if rest[end + 1] == b'\n' {
                2
            } else {
                1
            }
        } else {
            // A CR that ends the input ends the line now; an LF may still follow it.
            self.skip_lf = true;
            1
        };
        let consumed = pos + end + terminator_len;
        let line = &rest[..end];
        if let Some(seen) = self.discarding.take() {
            return (consumed, Next::TooLong { len: seen + end });
        }
        if self.partial.is_empty() {
            if line.len() > self.max_line_len {
                return (consumed, Next::TooLong { len: line.len() });
            }
            return (consumed, Next::Line(line));
        }
        let len = self.partial.len() + line.len();
        if len > self.max_line_len {
            self.clear_partial();
            return (consumed, Next::TooLong { len });
        }
        self.work += line.len() as u64;
        extend_bounded(&mut self.partial, line, self.max_line_len);
        let assembled = self.partial.split().freeze();
        if self.partial.capacity() > KEEP_PARTIAL_CAPACITY {
            self.partial = BytesMut::new();
        }
        (consumed, Next::Assembled(assembled))
    }

    /// Keeps the start of a line that the input did not finish, within the line limit.
    fn hold_unterminated(&mut self, piece: &[u8]) {
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
        self.work += piece.len() as u64;
        extend_bounded(&mut self.partial, piece, self.max_line_len);
    }

    fn clear_partial(&mut self) {
        if self.partial.capacity() > KEEP_PARTIAL_CAPACITY {
            self.partial = BytesMut::new();
        } else {
            self.partial.clear();
        }
    }
}

/// Position of the first CR or LF in `haystack`.
///
/// Most lines are short (the `multiline` corpus: 46 bytes), and `memchr2`'s per-call set-up
/// was a third of the parse time there. So the first bytes are checked here, inline, sixteen
/// at a time with SSE2 (part of every x86-64 CPU, so no feature detection), and only a line
/// longer than that goes to `memchr2`, whose AVX2 loop then wins.
#[inline]
fn find_line_end(haystack: &[u8]) -> Option<usize> {
    #[cfg(target_arch = "x86_64")]
    {
        use core::arch::x86_64::{
            _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
        };
        const INLINE_SCAN: usize = 256;
        /// Bit `i` set when byte `start + i` is CR or LF.
        #[inline(always)]
        fn line_ends_at(haystack: &[u8], start: usize) -> u32 {
            assert!(start + 16 <= haystack.len());
            // SAFETY: the assertion keeps the unaligned 16-byte load inside the slice; SSE2
            // is always available on x86-64.
            let mask = unsafe {
                let block = _mm_loadu_si128(haystack.as_ptr().add(start).cast());
                let cr = _mm_cmpeq_epi8(block, _mm_set1_epi8(b'\r' as i8));
                let lf = _mm_cmpeq_epi8(block, _mm_set1_epi8(b'\n' as i8));
                _mm_movemask_epi8(_mm_or_si128(cr, lf))
            };
            mask as u32
        }
        let len = haystack.len();
        if len < 16 {
            return haystack
                .iter()
                .position(|&byte| byte == b'\r' || byte == b'\n');
        }
        let mut start = 0;
        while start < INLINE_SCAN {
            if start + 16 > len {
                // The last bytes, read as the final 16 (overlapping bytes already known to
                // hold no line end) rather than one at a time.
                let last = len - 16;
                let found = line_ends_at(haystack, last);
                return (found != 0).then(|| last + found.trailing_zeros() as usize);
            }
            let found = line_ends_at(haystack, start);
            if found != 0 {
                return Some(start + found.trailing_zeros() as usize);
            }
            start += 16;
        }
        memchr::memchr2(b'\r', b'\n', &haystack[start..]).map(|at| start + at)
    }
    #[cfg(not(target_arch = "x86_64"))]
    memchr::memchr2(b'\r', b'\n', haystack)
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
    use alloc::vec;
    use alloc::vec::Vec;

    fn split_all(splitter: &mut LineSplitter, chunks: &[&[u8]]) -> Vec<Result<Vec<u8>, usize>> {
        let mut out = vec![];
        for chunk in chunks {
            let mut input: &[u8] = chunk;
            loop {
                let (used, next) = splitter.next_line(input);
                let done = match next {
                    Next::Line(line) => {
                        out.push(Ok(line.to_vec()));
                        false
                    }
                    Next::Assembled(line) => {
                        out.push(Ok(line.to_vec()));
                        false
                    }
                    Next::TooLong { len } => {
                        out.push(Err(len));
                        false
                    }
                    Next::NeedData => true,
                };
                input = &input[used..];
                if done {
                    assert!(input.is_empty());
                    break;
                }
            }
        }
        out
    }

    #[test]
    fn find_line_end_agrees_with_memchr2_at_every_position_and_length() {
        for len in 0..300 {
            let mut haystack = vec![b'x'; len];
            assert_eq!(find_line_end(&haystack), None, "len {len}");
            for at in 0..len {
                for byte in [b'\r', b'\n'] {
                    haystack[at] = byte;
                    assert_eq!(
                        find_line_end(&haystack),
                        memchr::memchr2(b'\r', b'\n', &haystack),
                        "len {len}, {byte} at {at}"
                    );
                    haystack[at] = b'x';
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
        let mut s = LineSplitter::new(100);
        let got = split_all(&mut s, &[b"\xEF", b"\xBBx\n"]);
        assert_eq!(got, vec![Ok(b"\xEF\xBBx".to_vec())]);
    }

    #[test]
    fn over_long_line_split_across_inputs_reports_its_full_length() {
        let mut s = LineSplitter::new(4);
        let got = split_all(&mut s, &[b"abc", b"def", b"gh\nok\n"]);
        assert_eq!(got, vec![Err(8), Ok(b"ok".to_vec())]);
        assert!(s.allocated_len() <= 64);
    }
}
