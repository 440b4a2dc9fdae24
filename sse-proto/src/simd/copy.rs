//! Appending short pieces to a `BytesMut` without a `memcpy` call: the copies of the line
//! splitter and the data buffer, done in at most four overlapping unaligned moves.

use bytes::BytesMut;

/// `copy_nonoverlapping`, with lengths up to 64 done inline in at most four overlapping
/// unaligned moves, where the `memcpy` call it replaces was a measurable share of the time
/// on short data lines, more when the input comes one byte at a time (`docs/performance.md`).
///
/// # Safety
///
/// As for `copy_nonoverlapping`: `src` readable and `dst` writable for `len` bytes, the two
/// ranges not overlapping.
#[inline(always)]
unsafe fn copy_short(src: *const u8, dst: *mut u8, len: usize) {
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
pub(crate) fn append_within_capacity(buf: &mut BytesMut, extra: &[u8]) -> bool {
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

/// Appends a line feed (when `line_feed_first`) and then `value` to `buf`, whose spare
/// capacity the caller reserved: plain stores and one copy, where `BytesMut::put_slice` costs
/// a call and a capacity check per piece (a measurable share of the parse time on short data
/// lines).
///
/// # Panics
///
/// When the spare capacity is short of the line feed and `value`.
#[inline(always)]
pub(crate) fn append_reserved(buf: &mut BytesMut, line_feed_first: bool, value: &[u8]) {
    let feed = usize::from(line_feed_first);
    let len = feed + value.len();
    let room = &mut buf.spare_capacity_mut()[..len]; // bounds-checked: never past the room
    if line_feed_first {
        room[0] = core::mem::MaybeUninit::new(b'\n');
    }
    // SAFETY: `room` holds `len` bytes of spare capacity; the copy fills `room[feed..]`
    // (inside it) from a source that cannot overlap the buffer's spare room. With the line
    // feed written above, the first `len` spare bytes are initialised, so the length may grow
    // by `len`.
    unsafe {
        let dst = room.as_mut_ptr().cast::<u8>().add(feed);
        copy_short(value.as_ptr(), dst, value.len());
        buf.set_len(buf.len() + len);
    }
}
