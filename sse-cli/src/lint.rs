//! `sse lint`: what a stream does that the standard makes clients drop, or that common
//! clients get wrong, with the byte offset and line of each.
//!
//! This is a reporter, not an interpreter: it reads the raw lines (their ends, their exact
//! bytes) that `sse_proto`'s parser deliberately hides, and it keeps only a bounded prefix of
//! each line, so an endless line costs no memory.

use std::collections::BTreeMap;
use std::fmt;

/// How bad a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Common clients misread it, or it is likely not what the server meant.
    Warning,
    /// The standard makes every client drop or ignore what the server sent.
    Error,
}

/// What was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// A line ended with a lone CR.
    CrLineEnd,
    /// Line ends of more than one kind.
    MixedLineEnds,
    /// A byte-order mark after the start of the stream.
    LateBom,
    /// Bytes that are not UTF-8.
    NotUtf8,
    /// An `id` with NUL: ignored.
    NulInId,
    /// A `retry` that is not all digits, or empty: ignored.
    BadRetry,
    /// A `retry` too large for any client: ignored.
    HugeRetry,
    /// A field name in the wrong case (`Data:`): an unknown field, ignored.
    WrongCaseField,
    /// A field name the standard does not know: ignored.
    UnknownField,
    /// U+2028 or U+2029 in data: clients that split with `splitlines` break the event there.
    LineSeparatorInData,
    /// A block with `id:` or `retry:` and no data: several Python clients deliver an empty
    /// event for it.
    BlockWithoutData,
    /// An event over 64 KiB, 1 MiB or 16 MiB: over the default limits of common clients.
    LargeEvent,
    /// The stream ended without the blank line that dispatches its last event.
    MissingFinalBlankLine,
    /// The response's `Content-Type` does not say `charset=utf-8`: clients that honour the
    /// HTTP default decode as ISO-8859-1.
    NoCharset,
}

impl Kind {
    /// How bad it is.
    pub fn severity(self) -> Severity {
        match self {
            Kind::NulInId
            | Kind::BadRetry
            | Kind::HugeRetry
            | Kind::WrongCaseField
            | Kind::MissingFinalBlankLine => Severity::Error,
            _ => Severity::Warning,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Kind::CrLineEnd => "a line ends with a lone CR: clients that split on LF see one long line",
            Kind::MixedLineEnds => "line ends of more than one kind (CRLF, LF, CR)",
            Kind::LateBom => "a byte-order mark after the start of the stream is text, not a BOM",
            Kind::NotUtf8 => "bytes that are not UTF-8 (clients show U+FFFD)",
            Kind::NulInId => "an id with NUL: every client ignores the field",
            Kind::BadRetry => "a retry that is not all ASCII digits: every client ignores it",
            Kind::HugeRetry => "a retry too large for a 64-bit count of milliseconds: ignored",
            Kind::WrongCaseField => "a field name in the wrong case: field names are case-sensitive, so it is ignored",
            Kind::UnknownField => "an unknown field name: ignored",
            Kind::LineSeparatorInData => "U+2028 or U+2029 in data: clients that split lines with splitlines() cut the event there",
            Kind::BlockWithoutData => "a block with id or retry and no data: httpx-sse and sseclient deliver an empty event for it",
            Kind::LargeEvent => "a large event",
            Kind::MissingFinalBlankLine => "the stream ends without a blank line: its last event is never dispatched",
            Kind::NoCharset => "the Content-Type has no charset=utf-8: sseclient decodes such a stream as ISO-8859-1",
        }
    }
}

/// One finding, where it starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// What.
    pub kind: Kind,
    /// The byte offset in the stream.
    pub offset: u64,
    /// The line, from 1.
    pub line: u64,
    /// More about this one (the field name, the value, the size).
    pub detail: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let severity = match self.kind.severity() {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(
            f,
            "line {} (byte {}): {severity}: {}",
            self.line,
            self.offset,
            self.kind.describe()
        )?;
        if !self.detail.is_empty() {
            write!(f, " ({})", self.detail)?;
        }
        Ok(())
    }
}

/// How many findings of one kind are listed; the rest are counted.
pub const LISTED_PER_KIND: usize = 3;

/// The most of one line kept for the checks: a longer line is still measured, not kept.
const LINE_KEPT: usize = 64 * 1024;

/// Common clients' default limits on one event, smallest first.
const EVENT_LIMITS: [(u64, &str); 3] = [
    (64 << 10, "64 KiB"),
    (1 << 20, "1 MiB"),
    (16 << 20, "16 MiB"),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LineEnd {
    CrLf,
    Lf,
    Cr,
}

/// Reads a stream in chunks and collects what it finds.
///
/// # Example
///
/// ```
/// use sse_cli::lint::{Kind, Linter};
///
/// let mut linter = Linter::new();
/// linter.feed(b"Data: lost\n\nid: 1\n\ndata: x");
/// let kinds: Vec<Kind> = linter.finish().findings.iter().map(|f| f.kind).collect();
/// assert_eq!(kinds, [Kind::WrongCaseField, Kind::BlockWithoutData, Kind::MissingFinalBlankLine]);
/// ```
#[derive(Debug, Default)]
pub struct Linter {
    offset: u64,
    line: u64,
    /// The line being read: its first bytes, its length, where it started.
    current: Vec<u8>,
    current_len: u64,
    current_start: u64,
    /// A CR ended the last chunk: an LF next would make it CRLF.
    pending_cr: bool,
    first_end: Option<LineEnd>,
    /// The block being read: its data size, whether it had id or retry, where it started.
    block_data: Option<u64>,
    block_control: bool,
    block_start: (u64, u64),
    report: Report,
}

/// What a whole stream gave.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// The first findings of each kind, in stream order.
    pub findings: Vec<Finding>,
    /// How many of each kind there were in all.
    pub counts: BTreeMap<Kind, u64>,
    /// Events dispatched.
    pub events: u64,
    /// Bytes read.
    pub bytes: u64,
}

impl Report {
    /// Whether anything of `severity` or worse was found.
    pub fn has(&self, severity: Severity) -> bool {
        self.counts.keys().any(|kind| kind.severity() >= severity)
    }
}

impl Linter {
    /// A linter at the start of a stream.
    pub fn new() -> Self {
        Linter {
            line: 1,
            ..Linter::default()
        }
    }

    /// Checks a response's `Content-Type` (for a stream read over HTTP).
    pub fn content_type(&mut self, value: Option<&str>) {
        let charset = value.is_some_and(|value| {
            value.split(';').skip(1).any(|param| {
                let param = param.trim().to_ascii_lowercase();
                param == "charset=utf-8" || param == "charset=\"utf-8\""
            })
        });
        if !charset {
            self.found_at(Kind::NoCharset, 0, 0, value.unwrap_or("none").to_owned());
        }
    }

    /// The next bytes of the stream.
    pub fn feed(&mut self, chunk: &[u8]) {
        for &byte in chunk {
            if self.pending_cr {
                self.pending_cr = false;
                if byte == b'\n' {
                    self.end_line(LineEnd::CrLf);
                    self.offset += 1;
                    continue;
                }
                self.end_line(LineEnd::Cr);
            }
            match byte {
                b'\r' => self.pending_cr = true,
                b'\n' => self.end_line(LineEnd::Lf),
                _ => {
                    if self.current_len == 0 {
                        self.current_start = self.offset;
                    }
                    if self.current.len() < LINE_KEPT {
                        self.current.push(byte);
                    }
                    self.current_len += 1;
                }
            }
            self.offset += 1;
        }
        self.report.bytes = self.offset;
    }

    /// The end of the stream: what was still pending, and the report.
    pub fn finish(mut self) -> Report {
        if self.pending_cr {
            self.pending_cr = false;
            self.end_line(LineEnd::Cr);
        }
        if self.current_len > 0 || self.block_data.is_some() {
            let (offset, line) = if self.block_data.is_some() {
                self.block_start
            } else {
                (self.current_start, self.line)
            };
            self.found_at(Kind::MissingFinalBlankLine, offset, line, String::new());
        }
        self.report
    }

    /// A line ended; `offset` is at its line end (just past it, for a lone CR).
    fn end_line(&mut self, end: LineEnd) {
        match self.first_end {
            None => self.first_end = Some(end),
            Some(first) if first != end => {
                let at = self.offset;
                if !self.report.counts.contains_key(&Kind::MixedLineEnds) {
                    self.found_at(
                        Kind::MixedLineEnds,
                        at,
                        self.line,
                        format!("{first:?}, then {end:?}"),
                    );
                }
            }
            Some(_) => {}
        }
        if end == LineEnd::Cr {
            let at = self.offset.saturating_sub(1);
            self.found_at(Kind::CrLineEnd, at, self.line, String::new());
        }
        let line = std::mem::take(&mut self.current);
        let len = std::mem::take(&mut self.current_len);
        self.check_line(&line, len);
        self.line += 1;
    }

    fn check_line(&mut self, line: &[u8], len: u64) {
        let (start, number) = (self.current_start, self.line);
        let bom_at = if start == 0 && line.starts_with(b"\xEF\xBB\xBF") {
            3
        } else {
            0
        };
        let text = &line[bom_at..];
        if let Some(at) = memchr::memmem::find(text, b"\xEF\xBB\xBF") {
            self.found_at(
                Kind::LateBom,
                start + (bom_at + at) as u64,
                number,
                String::new(),
            );
        }
        if let Err(error) = std::str::from_utf8(text) {
            // A line cut at LINE_KEPT may end inside a character: that is not the stream's fault.
            if error.error_len().is_some() || (line.len() as u64) == len {
                let at = start + (bom_at + error.valid_up_to()) as u64;
                self.found_at(Kind::NotUtf8, at, number, String::new());
            }
        }
        if text.is_empty() {
            self.dispatch();
            return;
        }
        if text[0] == b':' {
            return;
        }
        if self.block_data.is_none() && !self.block_control {
            self.block_start = (start, number);
        }
        let (name, value) = match memchr::memchr(b':', text) {
            Some(colon) => {
                let value = &text[colon + 1..];
                (&text[..colon], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (text, &b""[..]),
        };
        let value_len = len - (line.len() - value.len()) as u64;
        match name {
            b"data" => {
                let size = self.block_data.map_or(0, |size| size + 1) + value_len;
                self.block_data = Some(size);
                let value = String::from_utf8_lossy(value);
                if value.contains(['\u{2028}', '\u{2029}']) {
                    self.found_at(Kind::LineSeparatorInData, start, number, String::new());
                }
            }
            b"event" => {}
            b"id" => {
                self.block_control = true;
                if memchr::memchr(0, value).is_some() {
                    self.found_at(Kind::NulInId, start, number, String::new());
                }
            }
            b"retry" => {
                self.block_control = true;
                if value.is_empty() || !value.iter().all(u8::is_ascii_digit) {
                    let shown = String::from_utf8_lossy(&value[..value.len().min(40)]).into_owned();
                    self.found_at(Kind::BadRetry, start, number, format!("{shown:?}"));
                } else if std::str::from_utf8(value)
                    .ok()
                    .and_then(|v| v.parse::<u64>().ok())
                    .is_none()
                {
                    self.found_at(
                        Kind::HugeRetry,
                        start,
                        number,
                        format!("{} digits", value.len()),
                    );
                }
            }
            other => {
                let shown = String::from_utf8_lossy(&other[..other.len().min(40)]).into_owned();
                let known = ["data", "event", "id", "retry"]
                    .iter()
                    .any(|known| known.as_bytes().eq_ignore_ascii_case(other));
                let kind = if known {
                    Kind::WrongCaseField
                } else {
                    Kind::UnknownField
                };
                self.found_at(kind, start, number, format!("{shown:?}"));
            }
        }
    }

    /// A blank line: the block ends.
    fn dispatch(&mut self) {
        let (offset, line) = self.block_start;
        match self.block_data.take() {
            Some(size) => {
                self.report.events += 1;
                if let Some((_, name)) = EVENT_LIMITS.iter().rev().find(|(limit, _)| size > *limit)
                {
                    self.found_at(
                        Kind::LargeEvent,
                        offset,
                        line,
                        format!("{size} bytes of data: over {name}"),
                    );
                }
            }
            None if self.block_control => {
                self.found_at(Kind::BlockWithoutData, offset, line, String::new());
            }
            None => {}
        }
        self.block_control = false;
    }

    fn found_at(&mut self, kind: Kind, offset: u64, line: u64, detail: String) {
        let count = self.report.counts.entry(kind).or_insert(0);
        *count += 1;
        if *count as usize <= LISTED_PER_KIND {
            self.report.findings.push(Finding {
                kind,
                offset,
                line,
                detail,
            });
        }
    }
}
