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
    /// A complete line, without its terminator, lying in the input; `true` when it was seen
    /// to be all ASCII while its end was searched for (`false` means not known), which
    /// spares the UTF-8 validation of its value.
    Line(&'a [u8], bool),
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
            Some(b'\n' | b'\r') => Some((0, true)),
            _ => find_line_end(rest),
        };
        let Some((end, ascii)) = found else {
            self.work += rest.len() as u64;
            self.hold_unterminated(rest);
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
            return (consumed, Next::Line(line, ascii));
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

    /// The next line when it is a plain data line lying whole at the start of `input`:
    /// `data:`, ASCII, within the line limit, ended by LF or CRLF or a CR that is not the
    /// last byte, with the splitter between lines. Returns its value (after `data:` and one
    /// space) and the bytes it takes with its terminator, which the caller then
    /// [`skips`](Self::skip_plain_line). Nothing is changed: `None` leaves the line to
    /// [`next_line`](Self::next_line).
    ///
    /// Runs of data lines are the bulk of multi-line events, and taking them in a tight loop
    /// skips the general path's state checks and field dispatch.
    #[inline(always)]
    pub(crate) fn peek_plain_data_line<'a>(&self, input: &'a [u8]) -> Option<(&'a [u8], usize)> {
        if self.skip_lf
            || !self.partial.is_empty()
            || self.discarding.is_some()
            || self.bom != Bom::Resolved
            || !input.starts_with(b"data:")
        {
            return None;
        }
        let (end, ascii) = find_line_end(input)?;
        if !ascii || end > self.max_line_len {
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
        true
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

/// Position of the first CR or LF in `haystack`, and whether every byte before it is ASCII
/// (`false` when not known).
///
/// Most lines are short (the `multiline` corpus: 46 bytes), and `memchr2`'s per-call set-up
/// was a third of the parse time there. So the first bytes are checked here, inline, sixteen
/// at a time with SSE2 (part of every x86-64 CPU, so no feature detection), and only a line
/// longer than that goes to `memchr2`, whose AVX2 loop then wins. The same loads tell
/// whether the line is ASCII, which is most of the work of validating it as UTF-8.
#[inline(always)]
fn find_line_end(haystack: &[u8]) -> Option<(usize, bool)> {
    #[cfg(target_arch = "x86_64")]
    {
        use core::arch::x86_64::{
            __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128,
            _mm_set1_epi8, _mm_setzero_si128,
        };
        const INLINE_SCAN: usize = 256;
        /// The 16 bytes at `start`, and bit `i` set when byte `start + i` is CR or LF.
        #[inline(always)]
        fn load(haystack: &[u8], start: usize) -> (__m128i, u32) {
            assert!(start + 16 <= haystack.len());
            // SAFETY: the assertion keeps the unaligned 16-byte load inside the slice; SSE2
            // is always available on x86-64.
            unsafe {
                let block = _mm_loadu_si128(haystack.as_ptr().add(start).cast());
                let cr = _mm_cmpeq_epi8(block, _mm_set1_epi8(b'\r' as i8));
                let lf = _mm_cmpeq_epi8(block, _mm_set1_epi8(b'\n' as i8));
                (block, _mm_movemask_epi8(_mm_or_si128(cr, lf)) as u32)
            }
        }
        /// Whether the bytes OR-ed into `seen`, and those of `block` before its first line end
        /// (`line_ends` is not 0), are all ASCII.
        #[inline(always)]
        fn ascii_until(seen: __m128i, block: __m128i, line_ends: u32) -> bool {
            let below_first_end = line_ends.wrapping_sub(1) & !line_ends;
            // SAFETY: SSE2 is always available on x86-64.
            let (seen_high, block_high) = unsafe {
                (
                    _mm_movemask_epi8(seen) as u32,
                    _mm_movemask_epi8(block) as u32,
                )
            };
            seen_high | (block_high & below_first_end) == 0
        }
        let len = haystack.len();
        if len < 16 {
            let mut high = 0;
            for (at, &byte) in haystack.iter().enumerate() {
                if byte == b'\r' || byte == b'\n' {
                    return Some((at, high < 0x80));
                }
                high |= byte;
            }
            return None;
        }
        // The blocks without a line end, OR-ed: one instruction per block, where a mask per
        // block cost more than validating the line afterwards.
        // SAFETY: SSE2 is always available on x86-64.
        let mut seen = unsafe { _mm_setzero_si128() };
        let mut start = 0;
        while start < INLINE_SCAN {
            if start + 16 > len {
                // The last bytes, read as the final 16 (overlapping bytes already known to
                // hold no line end) rather than one at a time.
                let last = len - 16;
                let (block, found) = load(haystack, last);
                return (found != 0).then(|| {
                    let end = last + found.trailing_zeros() as usize;
                    (end, ascii_until(seen, block, found))
                });
            }
            let (block, found) = load(haystack, start);
            if found != 0 {
                let end = start + found.trailing_zeros() as usize;
                return Some((end, ascii_until(seen, block, found)));
            }
            // SAFETY: SSE2 is always available on x86-64.
            seen = unsafe { _mm_or_si128(seen, block) };
            start += 16;
        }
        memchr::memchr2(b'\r', b'\n', &haystack[start..]).map(|at| (start + at, false))
    }
    #[cfg(not(target_arch = "x86_64"))]
    memchr::memchr2(b'\r', b'\n', haystack).map(|at| (at, false))
}

/// `copy_nonoverlapping`, with lengths up to 64 done inline in at most four overlapping
/// unaligned moves: the `memcpy` call it replaces was 7 % of the time on 40-byte data lines, and 10 % when
/// the input comes one byte at a time.
///
/// # Safety
///
/// As for `copy_nonoverlapping`: `src` readable and `dst` writable for `len` bytes, the two
/// ranges not overlapping.
#[inline(always)]
pub(crate) unsafe fn copy_short(src: *const u8, dst: *mut u8, len: usize) {
    use core::ptr::{read_unaligned, write_unaligned};
    // SAFETY (every arm): each move reads and writes only offsets in `0..len`, because the
    // arm's lower bound on `len` keeps `len - width` at or above 0 and the offsets plus the
    // width at or below `len`; the caller's contract covers those bytes.
    unsafe {
        match len {
            0 => {}
            1..=3 => {
                *dst = *src;
                *dst.add(len / 2) = *src.add(len / 2);
                *dst.add(len - 1) = *src.add(len - 1);
            }
            4..=7 => {
                let head = read_unaligned(src.cast::<u32>());
                let tail = read_unaligned(src.add(len - 4).cast::<u32>());
                write_unaligned(dst.cast::<u32>(), head);
                write_unaligned(dst.add(len - 4).cast::<u32>(), tail);
            }
            8..=15 => {
                let head = read_unaligned(src.cast::<u64>());
                let tail = read_unaligned(src.add(len - 8).cast::<u64>());
                write_unaligned(dst.cast::<u64>(), head);
                write_unaligned(dst.add(len - 8).cast::<u64>(), tail);
            }
            16..=32 => {
                let head = read_unaligned(src.cast::<[u8; 16]>());
                let tail = read_unaligned(src.add(len - 16).cast::<[u8; 16]>());
                write_unaligned(dst.cast::<[u8; 16]>(), head);
                write_unaligned(dst.add(len - 16).cast::<[u8; 16]>(), tail);
            }
            33..=64 => {
                let head = read_unaligned(src.cast::<[u8; 32]>());
                let tail = read_unaligned(src.add(len - 32).cast::<[u8; 32]>());
                write_unaligned(dst.cast::<[u8; 32]>(), head);
                write_unaligned(dst.add(len - 32).cast::<[u8; 32]>(), tail);
            }
            _ => core::ptr::copy_nonoverlapping(src, dst, len),
        }
    }
}

/// Appends `extra` when it fits in `buf`'s spare capacity (`false`, and nothing done, when
/// not): inline for short pieces, without `BytesMut::extend_from_slice`'s growth check and
/// `memcpy` call.
#[inline(always)]
fn append_within_capacity(buf: &mut BytesMut, extra: &[u8]) -> bool {
    if extra.len() > buf.capacity() - buf.len() {
        return false;
    }
    // SAFETY: `extra` fits in the spare capacity (checked above), which it cannot overlap
    // (the buffer is borrowed mutably); the copy initialises the bytes the new length takes.
    unsafe {
        let room = buf.spare_capacity_mut().as_mut_ptr().cast::<u8>();
        copy_short(extra.as_ptr(), room, extra.len());
        buf.set_len(buf.len() + extra.len());
    }
    true
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
    use alloc::vec;
    use alloc::vec::Vec;

    fn split_all(splitter: &mut LineSplitter, chunks: &[&[u8]]) -> Vec<Result<Vec<u8>, usize>> {
        let mut out = vec![];
        for chunk in chunks {
            let mut input: &[u8] = chunk;
            loop {
                let (used, next) = splitter.next_line(input);
                let done = match next {
                    Next::Line(line, ascii) => {
                        assert!(!ascii || line.is_ascii(), "{line:?} called ASCII");
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
                    let found = find_line_end(&haystack);
                    assert_eq!(
                        found.map(|(end, _)| end),
                        memchr::memchr2(b'\r', b'\n', &haystack),
                        "len {len}, {byte} at {at}"
                    );
                    // No non-ASCII byte here: only lines past the inline scan are unknown.
                    assert!(found.is_some_and(|(end, ascii)| ascii || end >= 256));
                    haystack[at] = b'x';
                }
            }
        }
    }

    #[test]
    fn find_line_end_calls_a_line_ascii_only_when_it_is() {
        for len in 1..300 {
            for end in [0, len / 3, len - 1] {
                for non_ascii_at in 0..len {
                    if non_ascii_at == end {
                        continue;
                    }
                    let mut haystack = vec![b'x'; len];
                    haystack[end] = b'\n';
                    haystack[non_ascii_at] = 0x80;
                    let (found, ascii) = find_line_end(&haystack).expect("a line end");
                    assert_eq!(found, end);
                    // Sound everywhere; exact within the inline scan on x86-64.
                    let before_end = non_ascii_at < end;
                    assert!(
                        !(ascii && before_end),
                        "len {len}, end {end}, at {non_ascii_at}"
                    );
                    if cfg!(target_arch = "x86_64") && end < 256 {
                        assert_eq!(
                            ascii, !before_end,
                            "len {len}, end {end}, at {non_ascii_at}"
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
