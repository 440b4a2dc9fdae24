//! The HTTP rules (SPEC.md sections 4 and 5): response headers per HTTP version, reading the
//! Last-Event-ID request header, the Content-Type check.

use sse_proto::{
    is_event_stream, parse_last_event_id, response_headers, HttpVersion, LastEventIdError,
    EVENT_STREAM_MIME_TYPE,
};

#[test]
fn http1_response_headers_include_connection_keep_alive() {
    for version in [HttpVersion::Http10, HttpVersion::Http11] {
        assert_eq!(
            response_headers(version),
            [
                ("content-type", "text/event-stream"),
                ("cache-control", "no-cache"),
                ("x-accel-buffering", "no"),
                ("connection", "keep-alive"),
            ]
        );
    }
}

#[test]
fn http2_and_http3_response_headers_have_no_connection_header() {
    for version in [HttpVersion::Http2, HttpVersion::Http3] {
        assert_eq!(
            response_headers(version),
            [
                ("content-type", "text/event-stream"),
                ("cache-control", "no-cache"),
                ("x-accel-buffering", "no"),
            ]
        );
    }
}

#[test]
fn header_names_are_lower_case() {
    for version in [HttpVersion::Http11, HttpVersion::Http2] {
        for (name, _) in response_headers(version) {
            assert_eq!(*name, name.to_ascii_lowercase());
        }
    }
}

#[test]
fn last_event_id_header_is_trimmed_and_validated() {
    let ok: [(&[u8], Option<&str>); 8] = [
        (b"42", Some("42")),
        (b"  42\t", Some("42")),
        (b"a b", Some("a b")),
        (b"\xC3\xBCn\xC3\xAF", Some("ünï")),
        (b"\x01ctl", Some("\u{1}ctl")),
        (b"", None),
        (b"   ", None),
        (b"\t", None),
    ];
    for (value, want) in ok {
        assert_eq!(parse_last_event_id(value), Ok(want), "{value:?}");
    }
}

#[test]
fn last_event_id_header_with_forbidden_bytes_is_refused() {
    let cases: [(&[u8], u8, usize); 4] = [
        (b"1\n2", b'\n', 1),
        (b"1\r", b'\r', 1),
        (b"\x00", 0, 0),
        (b" ab\r\n", b'\r', 3),
    ];
    for (value, byte, position) in cases {
        assert_eq!(
            parse_last_event_id(value),
            Err(LastEventIdError::ForbiddenByte { byte, position }),
            "{value:?}"
        );
    }
    assert_eq!(
        parse_last_event_id(b"ok\xC3"),
        Err(LastEventIdError::NotUtf8 { valid_up_to: 2 })
    );
    assert_eq!(
        LastEventIdError::ForbiddenByte {
            byte: b'\n',
            position: 1
        }
        .to_string(),
        "Last-Event-ID contains byte 0x0a at position 1, which no event ID can hold"
    );
}

#[test]
fn every_id_a_parser_keeps_round_trips_through_the_header() {
    // What the client sends (the id as it is) is what the server reads back, unless it
    // starts or ends with a space or tab, which HTTP trims.
    for id in ["1", "a:b", "ünï", "x y", "\u{7f}", "{\"n\":1}"] {
        assert_eq!(parse_last_event_id(id.as_bytes()), Ok(Some(id)));
    }
    assert_eq!(parse_last_event_id(b" padded "), Ok(Some("padded")));
}

#[test]
fn content_type_essence_check() {
    assert_eq!(EVENT_STREAM_MIME_TYPE, "text/event-stream");
    for yes in [
        &b"text/event-stream"[..],
        b"TEXT/EVENT-STREAM",
        b"text/Event-Stream;charset=utf-8",
        b"  text/event-stream\t; a=b; c=d",
        b"text/event-stream;",
    ] {
        assert!(is_event_stream(yes), "{yes:?}");
    }
    for no in [
        &b""[..],
        b";text/event-stream",
        b"text/event-stream2",
        b"text/eventstream",
        b"text/ event-stream",
        b"application/event-stream",
        b"text/event-stream,text/html",
        b"text/\xC5\xBFvent-stream", // U+017F, which some case folds map to 's'
    ] {
        assert!(!is_event_stream(no), "{no:?}");
    }
}
