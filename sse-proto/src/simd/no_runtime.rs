//! The names of `runtime/mod.rs` where there is no run-time feature detection: without `std`
//! (no `is_x86_feature_detected!`) or off x86-64. No kernel is found, so the scalar
//! validator and `memchr2` do all the work, and the AVX-512 paths above compile to nothing
//! (their token cannot exist).

use bytes::BytesMut;

use crate::simd::line_scan::LineScan;

/// Never `Some`: the scalar validator is the only one.
#[inline(always)]
pub(super) fn is_utf8(_input: &[u8]) -> Option<bool> {
    None
}

/// As in `runtime/mod.rs`, but no value of it can exist.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Avx512 {}

impl Avx512 {
    /// Never found.
    pub(crate) fn detect() -> Option<Self> {
        None
    }

    pub(crate) fn scan_line(
        self,
        _haystack: &[u8],
        _preceding: u32,
        _backoff: &mut ShortCharBackoff,
    ) -> LineScan {
        match self {}
    }

    pub(crate) fn scan_line_into(
        self,
        _buf: &mut BytesMut,
        _haystack: &[u8],
        _preceding: u32,
        _backoff: &mut ShortCharBackoff,
    ) -> LineScan {
        match self {}
    }
}

/// Without the AVX-512 scan there is no short-character test to time.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct ShortCharBackoff {}

/// Without run-time detection the AVX-512 tests cannot run.
#[cfg(test)]
pub(crate) fn avx512_tests_can_run() -> bool {
    false
}

/// A validator's name, and its answer on an input it takes (`None` for one it does not).
#[cfg(test)]
pub(super) type NamedValidator = (&'static str, fn(&[u8]) -> Option<bool>);

/// No vector validator to test.
#[cfg(test)]
pub(super) fn validators() -> alloc::vec::Vec<NamedValidator> {
    alloc::vec::Vec::new()
}
