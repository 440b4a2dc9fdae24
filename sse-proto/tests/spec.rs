//! Conformance: one test per rule of the WHATWG event stream algorithm (as digested in
//! SPEC.md sections 1-3) and per decision of ours (section 7), plus regressions and limits.
//!
//! Unless a test says otherwise, each vector runs under every chunking (whole, byte by byte,
//! every split point, every pair of split points for short inputs, empty chunks interleaved,
//! through `poll` and through `feed`) and all runs must report exactly the expected steps;
//! the reference model in `common/naive.rs` must agree as well. See `docs/conformance.md`.

mod common;

use common::{
    assert_all_chunkings, assert_all_chunkings_with, assert_chunks, ev, limits, msg, run,
    with_comments, Out,
};
use sse_proto::{ParseError, Parser, ParserConfig, Step};

// ---------------------------------------------------------------------------------------
// Section 1: bytes to lines ("Parsing an event stream").
// ---------------------------------------------------------------------------------------

#[test]
fn utf8_multibyte_text_passes_through() {
    assert_all_chunkings(
        b"data: \xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\n\n",
        &[msg("é€😀", None)],
    );
}

#[test]
fn multibyte_char_split_across_chunks_decodes_once() {
    // The explicit splits land inside the 2-, 3- and 4-byte sequences; every other split is
    // covered by the all-chunkings run.
    let expected = [msg("é€😀", None)];
    assert_chunks(
        &[
            b"data: \xC3",
            b"\xA9\xE2\x82",
            b"\xAC\xF0",
            b"\x9F\x98",
            b"\x80\n\n",
        ],
        &expected,
    );
    assert_all_chunkings(b"data: \xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\n\n", &expected);
}

#[test]
fn invalid_utf8_becomes_replacement_character() {
    assert_all_chunkings(
        b"data: a\xFFb\xC0\xAFc\n\n",
        &[msg("a\u{FFFD}b\u{FFFD}\u{FFFD}c", None)],
    );
}

#[test]
fn truncated_sequence_before_line_end_is_one_replacement() {
    // A sequence cut short by a line end decodes to one U+FFFD; the line end still counts.
    assert_all_chunkings(
        b"data: \xE2\x82\n\ndata: \xC3\n\xA9\n\n",
        // The lone continuation byte A9 on its own line is an unknown field named U+FFFD.
        &[msg("\u{FFFD}", None), msg("\u{FFFD}", None)],
    );
}

#[test]
fn invalid_utf8_in_type_id_and_comment_is_replaced() {
    let mut config = with_comments();
    config.max_event_len = 1024;
    let expected = [
        Ok(Out::Comment("c\u{FFFD}".into())),
        Ok(ev("t\u{FFFD}", "d", Some("i\u{FFFD}"))),
    ];
    let last = assert_all_chunkings_with(
        &config,
        b": c\xFF\nevent: t\xFE\nid: i\xC3\ndata: d\n\n",
        &expected,
    );
    assert_eq!(last, "i\u{FFFD}");
}

#[test]
fn bom_is_dropped_only_at_stream_start() {
    assert_all_chunkings(b"\xEF\xBB\xBFdata: a\n\n", &[msg("a", None)]);
    // Later in the stream a BOM is text: here it makes an unknown field name.
    assert_all_chunkings(b"data: a\n\n\xEF\xBB\xBFdata: b\n\n", &[msg("a", None)]);
    // ...or part of a value.
    assert_all_chunkings(b"data: \xEF\xBB\xBFx\n\n", &[msg("\u{FEFF}x", None)]);
}

#[test]
fn second_bom_is_ordinary_text() {
    assert_all_chunkings(b"\xEF\xBB\xBF\xEF\xBB\xBFdata: a\n\n", &[]);
    assert_all_chunkings(b"\xEF\xBB\xBF\xEF\xBB\xBF\ndata: a\n\n", &[msg("a", None)]);
}

#[test]
fn bom_split_across_chunks_is_dropped() {
    assert_chunks(
        &[b"\xEF", b"\xBB", b"\xBF", b"data: a\n\n"],
        &[msg("a", None)],
    );
    assert_chunks(&[b"\xEF\xBB", b"\xBFdata: a\n\n"], &[msg("a", None)]);
    assert_chunks(&[b"\xEF", b"\xBB\xBFdata: a\n\n"], &[msg("a", None)]);
}

#[test]
fn partial_bom_is_ordinary_text() {
    // EF BB then 'x': not a BOM; the two bytes decode to one U+FFFD at the start of the line.
    assert_all_chunkings(b"\xEF\xBBx\ndata: a\n\n", &[msg("a", None)]);
    assert_all_chunkings(b"\xEF\xBBdata: a\n\n", &[]);
    assert_all_chunkings(b"\xEF\xBB\xBE\ndata: a\n\n", &[msg("a", None)]);
    assert_all_chunkings(b"\xEF\ndata: a\n\n", &[msg("a", None)]);
    // A line end right after a partial BOM: the line is the replacement character alone.
    let mut config = with_comments();
    config.max_line_len = 100;
    assert_all_chunkings_with(
        &config,
        b":\xEF\xBB\n",
        &[Ok(Out::Comment("\u{FFFD}".into()))],
    );
}

#[test]
fn lone_lf_ends_a_line() {
    assert_all_chunkings(b"data: a\ndata: b\n\n", &[msg("a\nb", None)]);
}

#[test]
fn lone_cr_ends_a_line() {
    assert_all_chunkings(b"data: a\rdata: b\r\r", &[msg("a\nb", None)]);
}

#[test]
fn crlf_ends_a_line_once() {
    assert_all_chunkings(b"data: a\r\ndata: b\r\n\r\n", &[msg("a\nb", None)]);
}

#[test]
fn crlf_split_across_chunks_is_one_line_end() {
    assert_chunks(&[b"data: a\r", b"\ndata: b\r\n\r\n"], &[msg("a\nb", None)]);
    assert_chunks(
        &[b"data: a\r", b"", b"\n", b"data: b\r", b"\n\r", b"\n"],
        &[msg("a\nb", None)],
    );
    assert_all_chunkings(b"data: a\r\ndata: b\r\n\r\n", &[msg("a\nb", None)]);
}

#[test]
fn lf_then_cr_is_two_line_ends() {
    assert_all_chunkings(b"data: a\n\rdata: b\n\n", &[msg("a", None), msg("b", None)]);
}

#[test]
fn cr_cr_is_two_line_ends() {
    assert_all_chunkings(b"data: a\r\rdata: b\r\r", &[msg("a", None), msg("b", None)]);
}

#[test]
fn mixed_line_ends_in_one_stream() {
    assert_all_chunkings(
        b"data: a\rdata: b\ndata: c\r\n\ndata: d\n\r\n",
        &[msg("a\nb\nc", None), msg("d", None)],
    );
}

#[test]
fn u2028_and_form_feed_are_not_line_ends() {
    // U+2028, form feed, vertical tab, U+0085 (NEL), U+2029: all ordinary text.
    assert_all_chunkings(
        b"data: a\xE2\x80\xA8b\x0cc\x0bd\xC2\x85e\xE2\x80\xA9f\n\n",
        &[msg("a\u{2028}b\u{c}c\u{b}d\u{85}e\u{2029}f", None)],
    );
}

// ---------------------------------------------------------------------------------------
// Section 2: lines to fields ("Interpreting an event stream").
// ---------------------------------------------------------------------------------------

#[test]
fn comment_line_is_ignored_by_default() {
    assert_all_chunkings(b": hi\ndata: a\n:\n\n", &[msg("a", None)]);
}

#[test]
fn comments_reported_only_when_enabled() {
    let input = b": hi\n:\n:  two\n:no space\ndata: a\n\n";
    assert_all_chunkings(input, &[msg("a", None)]);
    let expected = [
        Ok(Out::Comment("hi".into())),
        Ok(Out::Comment(String::new())),
        Ok(Out::Comment(" two".into())),
        Ok(Out::Comment("no space".into())),
        Ok(msg("a", None)),
    ];
    assert_all_chunkings_with(&with_comments(), input, &expected);
}

#[test]
fn comment_does_not_end_or_disturb_an_event() {
    let expected = [Ok(Out::Comment("mid".into())), Ok(msg("a\nb", None))];
    assert_all_chunkings_with(&with_comments(), b"data: a\n: mid\ndata: b\n\n", &expected);
}

#[test]
fn field_name_is_before_the_first_colon() {
    assert_all_chunkings(b"data: a:b: c\n\n", &[msg("a:b: c", None)]);
    assert_all_chunkings(b"data::\n\n", &[msg(":", None)]);
}

#[test]
fn one_leading_space_is_stripped_not_a_tab() {
    assert_all_chunkings(
        b"data:  two\ndata:\tx\ndata:x\ndata: \n\n",
        &[msg(" two\n\tx\nx\n", None)],
    );
}

#[test]
fn trailing_spaces_are_kept() {
    assert_all_chunkings(b"data: a  \nevent: t \n\n", &[ev("t ", "a  ", None)]);
}

#[test]
fn line_without_colon_is_a_field_with_empty_value() {
    assert_all_chunkings(b"data\ndata\n\n", &[msg("\n", None)]);
}

#[test]
fn field_names_are_case_sensitive() {
    assert_all_chunkings(
        b"Data: a\n\nDATA: b\n\nEvent: x\nID: 3\nRetry: 5\ndata: c\n\n",
        &[msg("c", None)],
    );
}

#[test]
fn field_name_with_space_before_colon_is_unknown() {
    assert_all_chunkings(b"data : a\n\n data: b\n\n", &[]);
}

#[test]
fn unknown_fields_are_ignored() {
    assert_all_chunkings(b"foo: bar\ndata: a\nx\n:\n\n", &[msg("a", None)]);
}

#[test]
fn event_field_sets_the_type() {
    assert_all_chunkings(b"event: update\ndata: a\n\n", &[ev("update", "a", None)]);
}

#[test]
fn last_event_field_wins() {
    assert_all_chunkings(b"event: a\nevent: b\ndata: x\n\n", &[ev("b", "x", None)]);
}

#[test]
fn empty_event_field_means_message() {
    assert_all_chunkings(b"event: x\nevent:\ndata: a\n\n", &[msg("a", None)]);
}

#[test]
fn data_lines_are_joined_with_lf() {
    assert_all_chunkings(b"data: a\ndata: b\ndata: c\n\n", &[msg("a\nb\nc", None)]);
}

#[test]
fn data_lines_are_joined_with_lf_whatever_their_terminator_and_content() {
    // A run of data lines, as the parser takes them in its fast loop, broken by each kind
    // of line that loop leaves to the general path: CR, no space, two spaces, non-ASCII,
    // no colon, invalid UTF-8.
    let input = b"data: a\ndata:b\r\ndata:  c\rdata: \xC3\xA9\ndata\ndata: d\xFF\ndata: e\n\n";
    assert_all_chunkings(input, &[msg("a\nb\n c\n\u{e9}\n\nd\u{FFFD}\ne", None)]);
}

#[test]
fn empty_data_line_adds_a_line_feed() {
    assert_all_chunkings(b"data: a\ndata\ndata: b\n\n", &[msg("a\n\nb", None)]);
}

#[test]
fn id_field_sets_last_event_id() {
    let last = assert_all_chunkings(b"id: 7\ndata: a\n\n", &[msg("a", Some("7"))]);
    assert_eq!(last, "7");
}

#[test]
fn id_value_keeps_inner_and_extra_spaces() {
    let last = assert_all_chunkings(b"id:  x y \ndata: a\n\n", &[msg("a", Some(" x y "))]);
    assert_eq!(last, " x y ");
}

#[test]
fn id_with_nul_is_ignored() {
    let last = assert_all_chunkings(
        b"id: 1\n\nid: 2\x00\ndata: b\n\nid: \x00\n\n",
        &[msg("b", Some("1"))],
    );
    assert_eq!(last, "1");
}

#[test]
fn empty_id_resets_last_event_id() {
    let last = assert_all_chunkings(
        b"id: 1\ndata: a\n\nid:\ndata: b\n\n",
        &[msg("a", Some("1")), msg("b", Some(""))],
    );
    assert_eq!(last, "");
}

#[test]
fn retry_sets_the_reconnection_time() {
    assert_all_chunkings(b"retry: 1500\n", &[Out::Retry(1500)]);
}

#[test]
fn retry_accepts_zero_and_leading_zeros() {
    assert_all_chunkings(b"retry: 0\nretry: 007\n", &[Out::Retry(0), Out::Retry(7)]);
}

#[test]
fn retry_requires_ascii_digits() {
    // Empty, no colon, sign, separators, spaces, decimals, hex, non-ASCII digits (U+0661).
    assert_all_chunkings(
        b"retry:\nretry\nretry: +1\nretry: -5\nretry: 1_000\nretry: 15 \nretry:  15\n\
          retry: 1.5\nretry: 0x10\nretry: \xD9\xA1\nretry: 1e3\ndata: a\n\n",
        &[msg("a", None)],
    );
}

// ---------------------------------------------------------------------------------------
// Section 3: dispatch ("Dispatch the event") and end of stream.
// ---------------------------------------------------------------------------------------

#[test]
fn empty_line_dispatches_the_event() {
    assert_all_chunkings(b"data: a\n\ndata: b\n\n", &[msg("a", None), msg("b", None)]);
}

#[test]
fn id_only_block_updates_last_event_id_without_dispatch() {
    let last = assert_all_chunkings(b"id: 5\n\n", &[]);
    assert_eq!(last, "5");
    assert_all_chunkings(b"id: 5\n\ndata: a\n\n", &[msg("a", Some("5"))]);
}

#[test]
fn id_takes_effect_at_the_dispatch_point() {
    // The id line may come after the data; what counts is the buffer at the empty line.
    assert_all_chunkings(
        b"data: a\nid: 2\n\ndata: b\nid: 3\n\n",
        &[msg("a", Some("2")), msg("b", Some("3"))],
    );
}

#[test]
fn id_without_a_dispatch_point_never_takes_effect() {
    let last = assert_all_chunkings(b"id: 1\ndata: a\n\nid: 2\n", &[msg("a", Some("1"))]);
    assert_eq!(last, "1");
}

#[test]
fn event_id_is_none_until_an_id_field() {
    let last = assert_all_chunkings(b"data: a\n\n", &[msg("a", None)]);
    assert_eq!(last, "");
}

#[test]
fn last_event_id_persists_across_events() {
    let last = assert_all_chunkings(
        b"id: 1\ndata: a\n\ndata: b\n\nevent: t\ndata: c\n\n",
        &[
            msg("a", Some("1")),
            msg("b", Some("1")),
            ev("t", "c", Some("1")),
        ],
    );
    assert_eq!(last, "1");
}

#[test]
fn data_buffer_empty_means_no_dispatch() {
    // A block with only a type, or nothing at all, dispatches nothing and clears the type.
    assert_all_chunkings(b"event: x\n\n\n\ndata: a\n\n", &[msg("a", None)]);
}

#[test]
fn empty_data_dispatches_empty_message() {
    assert_all_chunkings(
        b"data\n\ndata:\n\ndata: \n\n",
        &[msg("", None), msg("", None), msg("", None)],
    );
}

#[test]
fn trailing_lf_removed_once() {
    assert_all_chunkings(
        b"data: a\ndata\n\ndata\ndata\n\n",
        &[msg("a\n", None), msg("\n", None)],
    );
}

#[test]
fn type_defaults_to_message() {
    assert_all_chunkings(b"data: a\n\n", &[msg("a", None)]);
}

#[test]
fn buffers_are_cleared_after_dispatch() {
    assert_all_chunkings(
        b"event: x\ndata: a\n\ndata: b\n\n",
        &[ev("x", "a", None), msg("b", None)],
    );
}

#[test]
fn incomplete_event_discarded_at_eof() {
    assert_all_chunkings(b"data: a\ndata: b\n", &[]);
    assert_all_chunkings(b"event: x\nid: 4\ndata: a\n", &[]);
}

#[test]
fn unterminated_last_line_discarded_at_eof() {
    let last = assert_all_chunkings(b"id: 9\n\ndata: a\n\nid: 10", &[msg("a", Some("9"))]);
    assert_eq!(last, "9");
    assert_all_chunkings(b"data: a\n\ndata: b", &[msg("a", None)]);
    assert_all_chunkings(b"retry: 5", &[]);
    assert_all_chunkings_with(&with_comments(), b": x", &[]);
}

#[test]
fn lone_cr_at_end_of_stream_is_a_line_end() {
    assert_all_chunkings(b"data: a\n\r", &[msg("a", None)]);
}

#[test]
fn empty_chunks_do_not_end_the_stream() {
    let mut parser = Parser::new();
    for chunk in [&b"data: a\n"[..], b"", b"", b"\n"] {
        let mut input = chunk;
        let step = parser.poll(&mut input);
        if chunk == b"\n" {
            assert!(
                matches!(step, Ok(Step::Event(ref e)) if e.data() == "a"),
                "{step:?}"
            );
        } else {
            assert_eq!(step, Ok(Step::NeedData));
        }
    }
}

#[test]
fn finish_ends_the_stream_until_reset() {
    let mut parser = Parser::new();
    let mut input: &[u8] = b"data: a\n";
    assert_eq!(parser.poll(&mut input), Ok(Step::NeedData));
    parser.finish();
    let mut more: &[u8] = b"\n";
    assert_eq!(parser.poll(&mut more), Ok(Step::End));
    assert_eq!(parser.poll(&mut more), Ok(Step::End));
    assert_eq!(more, b"\n");
    parser.reset();
    assert_eq!(
        parser.poll(&mut more),
        Ok(Step::NeedData),
        "the old event is gone"
    );
}

#[test]
fn reset_keeps_last_event_id_and_allows_a_new_bom() {
    let mut parser = Parser::new();
    let mut input: &[u8] = b"id: 7\ndata: a\n\nid: 8\ndata: pending\n";
    while parser.poll(&mut input) != Ok(Step::NeedData) {}
    parser.reset();
    assert_eq!(
        parser.last_event_id(),
        "7",
        "the undispatched id 8 is dropped"
    );
    assert_eq!(parser.buffered_len(), 0);
    let mut input: &[u8] = b"\xEF\xBB\xBFdata: b\n\n";
    let step = parser.poll(&mut input).map(|s| common::naive::observe(&s));
    assert_eq!(step, Ok(Some(msg("b", Some("7")))));
    // The new stream can change it as usual.
    let mut input: &[u8] = b"id:\n\n";
    assert_eq!(parser.poll(&mut input), Ok(Step::NeedData));
    assert_eq!(parser.last_event_id(), "");
}

#[test]
fn reset_in_the_middle_of_a_crlf_or_bom() {
    // A CR at the end of the old stream must not swallow an LF at the start of the new one,
    // and a half-matched BOM must not leak into the new stream.
    let mut parser = Parser::new();
    let mut input: &[u8] = b"data: a\r";
    assert_eq!(parser.poll(&mut input), Ok(Step::NeedData));
    parser.reset();
    let mut input: &[u8] = b"\ndata: b\n\n";
    let step = parser.poll(&mut input).map(|s| common::naive::observe(&s));
    assert_eq!(step, Ok(Some(msg("b", None))));

    let mut parser = Parser::new();
    let mut input: &[u8] = b"\xEF\xBB";
    assert_eq!(parser.poll(&mut input), Ok(Step::NeedData));
    parser.reset();
    let mut input: &[u8] = b"\xEF\xBB\xBFdata: c\n\n";
    let step = parser.poll(&mut input).map(|s| common::naive::observe(&s));
    assert_eq!(step, Ok(Some(msg("c", None))));
}

// ---------------------------------------------------------------------------------------
// Section 7: our decisions where the standard is silent.
// ---------------------------------------------------------------------------------------

#[test]
fn retry_overflowing_u64_is_ignored() {
    assert_all_chunkings(
        b"retry: 18446744073709551615\nretry: 18446744073709551616\nretry: 99999999999999999999999\n",
        &[Out::Retry(u64::MAX)],
    );
}

#[test]
fn retry_reported_in_block_without_data() {
    assert_all_chunkings(b"retry: 3000\n\n", &[Out::Retry(3000)]);
}

#[test]
fn retry_reported_when_its_line_is_processed() {
    // Before the event whose block it is in, and even when that event is never dispatched.
    assert_all_chunkings(
        b"data: a\nretry: 10\n\ndata: b\nretry: 20\n",
        &[Out::Retry(10), msg("a", None), Out::Retry(20)],
    );
}

#[test]
fn retry_step_is_a_duration_in_milliseconds() {
    let mut parser = Parser::new();
    let mut input: &[u8] = b"retry: 2500\n";
    assert_eq!(
        parser.poll(&mut input),
        Ok(Step::Retry(std::time::Duration::from_millis(2500)))
    );
}

#[test]
fn comments_are_off_by_default() {
    assert!(!ParserConfig::default().emit_comments);
    let (out, _) = run(&ParserConfig::default(), &[b": ping\n\n"]);
    assert!(out.is_empty());
}

// ---------------------------------------------------------------------------------------
// Regressions (`|` separates chunks).
// ---------------------------------------------------------------------------------------

#[test]
fn regression_01_bom_then_data() {
    assert_all_chunkings(b"\xEF\xBB\xBFdata: a\n\n", &[msg("a", None)]);
}

#[test]
fn regression_02_bom_split_byte_by_byte() {
    assert_chunks(&[b"\xEF", b"\xBB", b"\xBFdata: a\n\n"], &[msg("a", None)]);
}

#[test]
fn regression_03_bom_after_first_event_is_text() {
    assert_all_chunkings(b"data: a\n\n\xEF\xBB\xBFdata: b\n\n", &[msg("a", None)]);
}

#[test]
fn regression_04_invalid_byte_replaced_and_stream_goes_on() {
    assert_all_chunkings(
        b"data: a\xFFb\n\ndata: c\n\n",
        &[msg("a\u{FFFD}b", None), msg("c", None)],
    );
}

#[test]
fn regression_05_cr_cr_dispatches_without_waiting_for_more() {
    // `data: a\r|\r`, stream still open: the second CR is a complete empty line.
    let mut parser = Parser::new();
    let mut input: &[u8] = b"data: a\r";
    assert_eq!(parser.poll(&mut input), Ok(Step::NeedData));
    let mut input: &[u8] = b"\r";
    let step = parser.poll(&mut input).map(|s| common::naive::observe(&s));
    assert_eq!(step, Ok(Some(msg("a", None))));
    assert!(input.is_empty());
    assert_eq!(parser.poll(&mut input), Ok(Step::NeedData));
}

#[test]
fn regression_06_cr_then_lf_in_next_chunk_is_one_line_end() {
    assert_chunks(&[b"data: a\r", b"\ndata: b\r\n\r\n"], &[msg("a\nb", None)]);
}

#[test]
fn regression_07_retry_in_its_own_block_is_reported() {
    assert_all_chunkings(
        b"retry: 1500\n\ndata: a\n\n",
        &[Out::Retry(1500), msg("a", None)],
    );
}

#[test]
fn regression_08_retry_with_non_digits_is_ignored() {
    assert_all_chunkings(b"retry: +1500\ndata: a\n\n", &[msg("a", None)]);
    assert_all_chunkings(b"retry: -5\n", &[]);
    assert_all_chunkings(b"retry: 1_000\n", &[]);
    assert_all_chunkings(b"retry: 15 \n", &[]);
}

#[test]
fn regression_09_event_without_colon_resets_the_type() {
    assert_all_chunkings(b"event: x\nevent\ndata: a\n\n", &[msg("a", None)]);
}

#[test]
fn regression_10_id_without_colon_resets_last_event_id() {
    let last = assert_all_chunkings(
        b"id: 1\ndata: a\n\nid\ndata: b\n\n",
        &[msg("a", Some("1")), msg("b", Some(""))],
    );
    assert_eq!(last, "");
}

#[test]
fn regression_11_empty_event_type_is_message() {
    assert_all_chunkings(b"event:\ndata: a\n\n", &[msg("a", None)]);
}

#[test]
fn regression_12_id_with_nul_is_ignored() {
    let last = assert_all_chunkings(b"id: 2\x00\ndata: b\n\n", &[msg("b", None)]);
    assert_eq!(last, "");
}

#[test]
fn regression_13_unknown_or_miscased_fields_are_ignored_silently() {
    assert_all_chunkings(b"foo: bar\n\n", &[]);
    assert_all_chunkings(b"Data: a\n\n", &[]);
    assert_all_chunkings(b"data : a\n\n", &[]);
}

#[test]
fn regression_14_comment_block_after_event_dispatches_nothing() {
    assert_all_chunkings(b"id: 1\ndata: a\n\n: ping\n\n", &[msg("a", Some("1"))]);
}

#[test]
fn regression_15_mixed_line_ends_across_chunks() {
    assert_chunks(
        &[b"data: A\r\n", b"data: B\r", b"data: C\r\n", b"\n"],
        &[msg("A\nB\nC", None)],
    );
}

#[test]
fn regression_16_empty_first_chunk_keeps_bom_detection() {
    assert_chunks(&[b"", b"\xEF\xBB\xBFdata: a\n\n"], &[msg("a", None)]);
}

#[test]
fn regression_17_work_is_linear_in_the_input() {
    // A deterministic work counter (bytes scanned + copied), never a wall-clock time.
    let mut line = b"data: ".to_vec();
    line.resize(4 * 1024 * 1024, b'x');
    line.extend_from_slice(b"\n\n");
    let mut parser = Parser::new();
    let mut events = 0;
    for chunk in line.chunks(4096) {
        for step in parser.feed(chunk) {
            if let Step::Event(event) = step.unwrap() {
                assert_eq!(event.data().len(), 4 * 1024 * 1024 - 6);
                events += 1;
            }
        }
    }
    assert_eq!(events, 1);
    assert!(
        parser.work() <= 3 * line.len() as u64,
        "work {} for {} bytes",
        parser.work(),
        line.len()
    );

    let small = b"event: tick\nid: 12345\ndata: {\"n\":1}\n\n".repeat(20_000);
    let mut parser = Parser::new();
    let events = parser
        .feed(&small)
        .filter(|step| matches!(step, Ok(Step::Event(_))))
        .count();
    assert_eq!(events, 20_000);
    assert!(
        parser.work() <= 3 * small.len() as u64,
        "work {} for {} bytes",
        parser.work(),
        small.len()
    );
}

#[test]
fn one_byte_feeding_is_linear() {
    let mut input = b"data: ".to_vec();
    input.resize(64 * 1024, b'y');
    input.extend_from_slice(b"\r\n\r\n");
    let mut parser = Parser::new();
    let mut events = 0;
    for byte in input.chunks(1) {
        events += parser
            .feed(byte)
            .filter(|s| matches!(s, Ok(Step::Event(_))))
            .count();
    }
    assert_eq!(events, 1);
    assert!(
        parser.work() <= 3 * input.len() as u64,
        "work {}",
        parser.work()
    );
}

// ---------------------------------------------------------------------------------------
// Limits (docs/limits.md).
// ---------------------------------------------------------------------------------------

#[test]
fn line_too_long_reports_len_and_limit_and_drops_the_event() {
    let input = b"data: a\ndata: 0123456789abc\ndata: b\n\ndata: ok\n\n";
    let expected = [
        Err(ParseError::LineTooLong { len: 19, limit: 10 }),
        Ok(msg("ok", None)),
    ];
    assert_all_chunkings_with(&limits(10, 1000), input, &expected);
}

#[test]
fn line_too_long_keeps_id_and_retry_of_the_dropped_event() {
    // So a reconnecting client sends the dropped event's id and is not sent it again.
    let input = b"id: 1\ndata: 0123456789abc\nretry: 7\nid: 2\n\ndata: ok\n\n";
    let expected = [
        Err(ParseError::LineTooLong { len: 19, limit: 10 }),
        Ok(Out::Retry(7)),
        Ok(msg("ok", Some("2"))),
    ];
    let last = assert_all_chunkings_with(&limits(10, 1000), input, &expected);
    assert_eq!(last, "2");
}

#[test]
fn line_at_the_limit_is_accepted() {
    // Ten bytes exactly, without the terminator; the BOM does not count.
    let expected = [Ok(msg("0123", None))];
    assert_all_chunkings_with(
        &limits(10, 1000),
        b"\xEF\xBB\xBFdata: 0123\r\n\r\n",
        &expected,
    );
    let expected = [Err(ParseError::LineTooLong { len: 11, limit: 10 })];
    assert_all_chunkings_with(&limits(10, 1000), b"data: 01234\r\n\r\n", &expected);
}

#[test]
fn failed_partial_bom_counts_toward_the_line() {
    // The two bytes given back as text are part of the first line.
    let expected = [Err(ParseError::LineTooLong { len: 9, limit: 8 })];
    assert_all_chunkings_with(&limits(8, 100), b"\xEF\xBBdata: a\n\n", &expected);
}

#[test]
fn over_long_line_unterminated_at_eof_reports_nothing() {
    // The error is reported when the line ends; an unterminated last line never ends.
    assert_all_chunkings_with(
        &limits(8, 100),
        b"data: a\n\ndata: 0123456789",
        &[Ok(msg("a", None))],
    );
}

#[test]
fn line_too_long_in_a_comment_or_unknown_field_also_drops_the_event() {
    // The event is the block between empty lines: data before or after the long line goes.
    let input =
        b"data: a\n: 0123456789\n\ndata: b\nxxxxxxxxxxx\n\n: 0123456789\ndata: c\n\ndata: d\n\n";
    let expected = [
        Err(ParseError::LineTooLong { len: 12, limit: 10 }),
        Err(ParseError::LineTooLong { len: 11, limit: 10 }),
        Err(ParseError::LineTooLong { len: 12, limit: 10 }),
        Ok(msg("d", None)),
    ];
    assert_all_chunkings_with(&limits(10, 1000), input, &expected);
}

#[test]
fn each_over_long_line_is_reported_but_event_too_large_only_once() {
    let input =
        b"data: 0123456789a\ndata: 0123456789b\n\ndata: abc\ndata: def\ndata: ghi\n\ndata: ok\n\n";
    let expected = [
        Err(ParseError::LineTooLong { len: 17, limit: 12 }),
        Err(ParseError::LineTooLong { len: 17, limit: 12 }),
        Err(ParseError::EventTooLarge { len: 7, limit: 5 }),
        Ok(msg("ok", None)),
    ];
    assert_all_chunkings_with(&limits(12, 5), input, &expected);
}

#[test]
fn event_too_large_reports_and_drops_the_event() {
    // "abc" fits, "abc\ndef" (7 bytes) does not; later lines of the event are skipped,
    // its type does not leak into the next event, its id and retry still apply.
    let input =
        b"event: x\ndata: abc\ndata: def\ndata: g\nevent: y\nid: 3\nretry: 9\n\ndata: ok\n\n";
    let expected = [
        Err(ParseError::EventTooLarge { len: 7, limit: 5 }),
        Ok(Out::Retry(9)),
        Ok(msg("ok", Some("3"))),
    ];
    let last = assert_all_chunkings_with(&limits(100, 5), input, &expected);
    assert_eq!(last, "3");
}

#[test]
fn event_at_the_limit_is_accepted() {
    // "ab\ncd" is 5 bytes: the trailing LF the standard removes does not count.
    let expected = [Ok(msg("ab\ncd", None))];
    assert_all_chunkings_with(&limits(100, 5), b"data: ab\ndata: cd\n\n", &expected);
}

#[test]
fn event_len_counts_decoded_bytes() {
    // Two invalid bytes become two U+FFFD, 6 bytes of data.
    let expected = [Err(ParseError::EventTooLarge { len: 6, limit: 5 })];
    assert_all_chunkings_with(&limits(100, 5), b"data: \xFF\xFF\n\n", &expected);
}

#[test]
fn event_type_does_not_count_toward_max_event_len() {
    // `max_event_len` bounds the data buffer (ParserConfig docs); the type is bounded by
    // `max_line_len` like every line.
    let expected = [Ok(ev("abcdefghij", "a", None))];
    assert_all_chunkings_with(
        &limits(100, 5),
        b"event: abcdefghij\ndata: a\n\n",
        &expected,
    );
}

#[test]
fn parser_recovers_after_limit_errors() {
    let input = b"data: 0123456789abcdef\n\ndata: 1\n\ndata: abcdef\n\ndata: 2\ndata: 3\n\n";
    let expected = [
        Err(ParseError::LineTooLong { len: 22, limit: 12 }),
        Ok(msg("1", None)),
        Err(ParseError::EventTooLarge { len: 6, limit: 5 }),
        Ok(msg("2\n3", None)),
    ];
    assert_all_chunkings_with(&limits(12, 5), input, &expected);
}

/// Slack for the allocation rounding of the buffers (the line buffer grows to at least 64
/// bytes; both buffers are otherwise capped by their limit).
const SLACK: usize = 64;

/// Feeds `input` in chunks of `chunk_len` and checks after every poll that `buffered_len()`
/// stays within `max_line_len + max_event_len` and `allocated_len()` within `alloc_bound`.
/// Returns (events, errors, largest allocated_len seen).
///
/// `poll` consumes the caller's slice, so input cannot pile up inside the parser between
/// polls: "feeding without polling" is impossible in this API. The bound is checked after
/// every poll instead, which is every point where the caller gets control back.
fn feed_checking_bounds(
    config: &ParserConfig,
    input: &[u8],
    chunk_len: usize,
    alloc_bound: usize,
) -> (usize, usize, usize) {
    let bound = config.max_line_len + config.max_event_len;
    let mut parser = Parser::with_config(config.clone());
    let (mut events, mut errors, mut most) = (0, 0, 0);
    for chunk in input.chunks(chunk_len) {
        let mut rest = chunk;
        loop {
            let step = parser.poll(&mut rest);
            assert!(
                parser.buffered_len() <= bound,
                "buffered {} > {bound}, chunks of {chunk_len}",
                parser.buffered_len()
            );
            most = most.max(parser.allocated_len());
            assert!(
                parser.allocated_len() <= alloc_bound,
                "allocated {} > {alloc_bound} (buffered {}), chunks of {chunk_len}",
                parser.allocated_len(),
                parser.buffered_len()
            );
            match step {
                Ok(Step::NeedData) => break,
                Ok(Step::Event(_)) => events += 1,
                Ok(_) => {}
                Err(_) => errors += 1,
            }
        }
    }
    (events, errors, most)
}

/// Lines of 0 to 1400 bytes, events of 1 to 9 lines, all three line ends, some lines over
/// `max_line_len` = 1000 and some events over `max_event_len` = 3000. Returns the input and
/// how many events fit.
fn mixed_input() -> (Vec<u8>, usize) {
    let mut input = Vec::new();
    let mut seed: u32 = 12345;
    let mut next = |n: u32| {
        seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
        (seed >> 8) % n
    };
    let mut expected_events = 0;
    while input.len() < 600_000 {
        let lines = 1 + next(9);
        let mut total = 0;
        let mut ok = true;
        for i in 0..lines {
            let len = next(1400) as usize;
            ok &= len + 6 <= 1000;
            total += len + usize::from(i > 0);
            input.extend_from_slice(b"data: ");
            input.resize(input.len() + len, b'a' + (i as u8));
            input.extend_from_slice([&b"\n"[..], b"\r\n", b"\r"][next(3) as usize]);
        }
        ok &= total <= 3000;
        expected_events += usize::from(ok);
        // CRLF ends the blank line whatever ended the previous one (a lone CR followed by
        // a lone LF would be a single CRLF).
        input.extend_from_slice(b"\r\n");
    }
    (input, expected_events)
}

#[test]
fn buffered_len_stays_within_the_limits() {
    // `allocated_len` gets its own, tighter test below; here only a loose bound.
    let config = limits(1000, 3000);
    let (input, expected_events) = mixed_input();
    for chunk_len in [1, 7, 4096] {
        let alloc_bound = 1000 + 2 * 3000 + SLACK;
        let (events, errors, _) = feed_checking_bounds(&config, &input, chunk_len, alloc_bound);
        assert_eq!(events, expected_events, "chunks of {chunk_len}");
        assert!(errors > 0);
    }
}

#[test]
fn allocated_len_within_a_small_constant_of_the_limits() {
    let config = limits(1000, 3000);
    let (input, _) = mixed_input();
    for chunk_len in [1, 7, 4096] {
        feed_checking_bounds(&config, &input, chunk_len, 1000 + 3000 + SLACK);
    }
}

#[test]
fn allocated_len_data_buffer_regrowth_minimal() {
    // One event of 896 bytes leaves the data buffer (3000 bytes) split at 896; the next
    // event's third line needs 2262 bytes in the 2104 left, and the reserve doubles the
    // whole allocation instead of reusing the freed front. Fed byte by byte so the bound is
    // observed while the event is being built (a poll only returns at a step otherwise).
    let mut input = b"data: ".to_vec();
    input.resize(6 + 896, b'a');
    input.extend_from_slice(b"\n\n");
    for (fill, len) in [(b'b', 900), (b'c', 900), (b'd', 460)] {
        input.extend_from_slice(b"data: ");
        input.resize(input.len() + len, fill);
        input.extend_from_slice(b"\n");
    }
    input.extend_from_slice(b"\n");
    let (events, errors, most) = feed_checking_bounds(&limits(1000, 3000), &input, 1, usize::MAX);
    assert_eq!((events, errors), (2, 0));
    assert!(most <= 1000 + 3000 + SLACK, "allocated_len reached {most}");
}

#[test]
fn endless_line_keeps_memory_bounded() {
    // 100 MB in one line, generated chunk by chunk, with a 1 MiB line limit.
    let config = limits(1 << 20, 1 << 20);
    let mut parser = Parser::with_config(config.clone());
    let filler = vec![b'z'; 64 * 1024];
    let mut input: &[u8] = b"data: ";
    assert_eq!(parser.poll(&mut input), Ok(Step::NeedData));
    let mut total = 6;
    while total < 100_000_000 {
        let mut input = &filler[..];
        assert_eq!(parser.poll(&mut input), Ok(Step::NeedData));
        total += filler.len();
        assert!(parser.buffered_len() <= 1 << 20);
        assert!(
            parser.allocated_len() <= (1 << 20) + 64,
            "allocated {}",
            parser.allocated_len()
        );
    }
    let mut input: &[u8] = b"\n\ndata: fine\n\n";
    assert_eq!(
        parser.poll(&mut input),
        Err(ParseError::LineTooLong {
            len: total,
            limit: 1 << 20
        })
    );
    let step = parser.poll(&mut input).map(|s| common::naive::observe(&s));
    assert_eq!(step, Ok(Some(msg("fine", None))));
    // The line buffer (kept at 1 MiB for reuse) plus one data arena chunk.
    assert!(parser.allocated_len() <= (2 << 20) + SLACK);
}

#[test]
fn poll_bytes_shares_a_long_single_data_line_and_copies_otherwise() {
    use bytes::Bytes;
    let long = "x".repeat(100);
    let body = Bytes::from(format!(
        "data: {long}\n\ndata: {long}\ndata: two\n\ndata: short\n\n"
    ));
    let mut input = body.clone();
    let mut parser = Parser::new();
    let mut events = Vec::new();
    loop {
        match parser.poll_bytes(&mut input) {
            Ok(Step::Event(event)) => events.push(event),
            Ok(Step::NeedData) => break,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(events.len(), 3);
    // One line, whole in the chunk: the event's data is the chunk's memory.
    assert_eq!(events[0].data(), long);
    assert_eq!(events[0].data().as_ptr(), body[6..].as_ptr());
    // Two lines: joined into the parser's own buffer.
    assert_eq!(events[1].data(), format!("{long}\ntwo"));
    assert!(!body.as_ptr_range().contains(&events[1].data().as_ptr()));
    assert_eq!(events[2].data(), "short");
}
