//! `Linter` over broken and clean streams, with the exact findings expected, under every
//! chunking (the findings must not depend on where the chunks split).

use sse_cli::lint::{Kind, Linter, Report, Severity};

fn lint_chunked(stream: &[u8], cuts: &[usize]) -> Report {
    let mut linter = Linter::new();
    let mut start = 0;
    for &cut in cuts {
        linter.feed(&stream[start..cut]);
        start = cut;
    }
    linter.feed(&stream[start..]);
    linter.finish()
}

/// The findings of `stream` as `(kind, line, offset)`, the same whole, byte by byte and at
/// every single split.
fn findings(stream: &[u8]) -> Vec<(Kind, u64, u64)> {
    let whole = lint_chunked(stream, &[]);
    let bytewise: Vec<usize> = (1..stream.len()).collect();
    assert_eq!(lint_chunked(stream, &bytewise), whole, "byte by byte");
    for cut in 0..=stream.len() {
        assert_eq!(lint_chunked(stream, &[cut]), whole, "split at {cut}");
    }
    whole
        .findings
        .iter()
        .map(|f| (f.kind, f.line, f.offset))
        .collect()
}

#[test]
fn a_clean_stream_has_no_finding() {
    let stream = "\u{feff}: hello\nretry: 3000\nevent: a\nid: 1\ndata: é\ndata: two\n\ndata: x\n\n";
    assert_eq!(findings(stream.as_bytes()), []);
    let report = lint_chunked(stream.as_bytes(), &[]);
    assert_eq!(report.events, 2);
    assert!(!report.has(Severity::Warning));
}

#[test]
fn cr_only_and_mixed_line_ends() {
    assert_eq!(
        findings(b"data: a\r\rdata: b\n\n"),
        [
            (Kind::CrLineEnd, 1, 7),
            (Kind::CrLineEnd, 2, 8),
            (Kind::MixedLineEnds, 3, 16),
        ]
    );
    // CRLF throughout is one kind.
    assert_eq!(findings(b"data: a\r\n\r\n"), []);
}

#[test]
fn a_bom_after_the_start_is_text() {
    assert_eq!(
        findings(b"data: a\n\n\xEF\xBB\xBFdata: b\n\n"),
        [(Kind::LateBom, 3, 9), (Kind::UnknownField, 3, 9)]
    );
}

#[test]
fn ids_with_nul_and_ignored_retries_are_errors() {
    let found =
        findings(b"id: a\0b\nretry: 1.5\nretry:\nretry: 99999999999999999999999\ndata: x\n\n");
    assert_eq!(
        found,
        [
            (Kind::NulInId, 1, 0),
            (Kind::BadRetry, 2, 8),
            (Kind::BadRetry, 3, 19),
            (Kind::HugeRetry, 4, 26),
        ]
    );
    assert!(lint_chunked(b"id: a\0b\n\n", &[]).has(Severity::Error));
}

#[test]
fn field_names_in_the_wrong_case_and_unknown_ones() {
    assert_eq!(
        findings(b"Data: lost\nEVENT: x\ncolour: red\ndata: kept\n\n"),
        [
            (Kind::WrongCaseField, 1, 0),
            (Kind::WrongCaseField, 2, 11),
            (Kind::UnknownField, 3, 20),
        ]
    );
}

#[test]
fn line_separators_in_data() {
    assert_eq!(
        findings("data: a\u{2028}b\n\ndata: c\u{2029}\n\n".as_bytes()),
        [
            (Kind::LineSeparatorInData, 1, 0),
            (Kind::LineSeparatorInData, 3, 13)
        ]
    );
}

#[test]
fn blocks_without_data_that_python_clients_deliver_as_empty_events() {
    assert_eq!(
        findings(b"retry: 100\n\nid: 7\n\n: comment only\n\nevent: x\n\n"),
        [
            (Kind::BlockWithoutData, 1, 0),
            (Kind::BlockWithoutData, 3, 12)
        ]
    );
}

#[test]
fn a_stream_without_its_final_blank_line_loses_its_last_event() {
    assert_eq!(
        findings(b"data: a\n\ndata: b\n"),
        [(Kind::MissingFinalBlankLine, 3, 9)]
    );
    assert_eq!(
        findings(b"data: a\n\ndata: b"),
        [(Kind::MissingFinalBlankLine, 3, 9)]
    );
    assert_eq!(findings(b"data: a\n\n: trailing comment\n"), []);
}

#[test]
fn large_events_name_the_limit_they_pass() {
    let mut stream = b"data: ".to_vec();
    stream.extend(std::iter::repeat_n(b'x', (1 << 20) + 1));
    stream.extend_from_slice(b"\n\n");
    let report = lint_chunked(&stream, &[]);
    assert_eq!(report.findings.len(), 1);
    assert_eq!(report.findings[0].kind, Kind::LargeEvent);
    assert!(
        report.findings[0].detail.contains("over 1 MiB"),
        "{}",
        report.findings[0]
    );
    let cuts: Vec<usize> = (1..stream.len()).step_by(4093).collect();
    assert_eq!(lint_chunked(&stream, &cuts), report);
}

#[test]
fn invalid_utf8_is_reported_once_per_line() {
    assert_eq!(findings(b"data: \xFF\xFE\n\n"), [(Kind::NotUtf8, 1, 6)]);
}

#[test]
fn only_the_first_findings_of_a_kind_are_listed() {
    let stream = b"x\n".repeat(10);
    let report = lint_chunked(&stream, &[]);
    assert_eq!(report.findings.len(), sse_cli::lint::LISTED_PER_KIND);
    assert_eq!(report.counts[&Kind::UnknownField], 10);
}

#[test]
fn the_content_type_needs_its_charset() {
    for (value, found) in [
        (Some("text/event-stream; charset=utf-8"), false),
        (Some("text/event-stream;charset=UTF-8"), false),
        (Some("text/event-stream"), true),
        (None, true),
    ] {
        let mut linter = Linter::new();
        linter.content_type(value);
        let report = linter.finish();
        assert_eq!(
            report.counts.contains_key(&Kind::NoCharset),
            found,
            "{value:?}"
        );
    }
}
