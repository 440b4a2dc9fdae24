//! What a line scan found: shared by the dispatcher and the kernels, and a leaf so that
//! neither imports the other for it.

/// Where a line ends in the input, if it does, and whether the bytes before that are known to
/// be valid UTF-8. When the input does not finish the line: whether no error was found in its
/// bytes so far, the last three of which are checked only against the bytes that follow them
/// (they may be the start of a character the next input finishes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LineScan {
    pub(crate) end: Option<usize>,
    pub(crate) valid: bool,
}
