//! The one run-time feature detection: `is_x86_feature_detected!` is asked once per process,
//! and its answers are kept as bits of one atomic byte.
//!
//! A leaf, so that the kernels' tests can ask it without importing the dispatcher that
//! imports them.

use core::sync::atomic::{AtomicU8, Ordering};

/// Set once the CPU was asked, so that a CPU with none of the features is not asked again.
const ASKED: u8 = 1 << 0;
/// SSSE3: the 16-byte validator.
pub(super) const SSSE3: u8 = 1 << 1;
/// AVX2: the 32-byte validator.
pub(super) const AVX2: u8 = 1 << 2;
/// AVX-512 F, BW and VBMI, all three: the 64-byte validator and the line scan.
pub(super) const AVX512: u8 = 1 << 3;

/// The CPU's answers, 0 until it was asked.
static FEATURES: AtomicU8 = AtomicU8::new(0);

/// The features of this CPU, as the bits above.
#[inline(always)]
pub(super) fn features() -> u8 {
    // Relaxed: two threads that both find 0 both ask, and store the same answer.
    let known = FEATURES.load(Ordering::Relaxed);
    if known != 0 {
        return known;
    }
    ask_cpu()
}

#[cold]
#[inline(never)]
fn ask_cpu() -> u8 {
    let mut found = ASKED;
    if std::is_x86_feature_detected!("ssse3") {
        found |= SSSE3;
    }
    if std::is_x86_feature_detected!("avx2") {
        found |= AVX2;
    }
    if std::is_x86_feature_detected!("avx512f")
        && std::is_x86_feature_detected!("avx512bw")
        && std::is_x86_feature_detected!("avx512vbmi")
    {
        found |= AVX512;
    }
    FEATURES.store(found, Ordering::Relaxed);
    found
}

/// For the tests of the AVX-512 paths: whether they can run on this CPU. Without AVX-512
/// VBMI they return early and pass; with `SSE_PROTO_EXPECT_AVX512` set (CI sets it when
/// `/proc/cpuinfo` lists the features) that is a failure instead, so a detection that
/// wrongly says no, leaving the fast paths untested and unused, cannot pass unseen.
#[cfg(test)]
pub(crate) fn avx512_tests_can_run() -> bool {
    let available = features() & AVX512 != 0;
    assert!(
        available || std::env::var_os("SSE_PROTO_EXPECT_AVX512").is_none(),
        "SSE_PROTO_EXPECT_AVX512 is set, but AVX-512 F, BW and VBMI were not detected"
    );
    available
}
