//! The HTTP rules: the response headers per HTTP version, one test per header named after
//! the rule it follows (WHATWG HTML for the content type, RFC 9111 for caching, nginx's
//! convention for buffering, RFC 9113 / RFC 9114 for connection headers); reading the
//! Last-Event-ID request header; the Content-Type check; the Accept check (RFC 9110).

use sse_proto::{
    accepts_event_stream, is_event_stream, parse_last_event_id, response_headers, HttpVersion,
    LastEventIdError, EVENT_STREAM_CONTENT_TYPE, EVENT_STREAM_MIME_TYPE,
};

const MULTIPLEXED: [HttpVersion; 2] = [HttpVersion::Http2, HttpVersion::Http3];
const ALL_VERSIONS: [HttpVersion; 4] = [
    HttpVersion::Http10,
    HttpVersion::Http11,
    HttpVersion::Http2,
    HttpVersion::Http3,
];

/// The value of the one header called `name`; fails when it is sent twice.
fn header(version: HttpVersion, name: &str) -> Option<&'static str> {
    let mut values = response_headers(version)
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|&(_, value)| value);
    let value = values.next();
    assert_eq!(values.next(), None, "{name} sent twice on {version:?}");
    value
}

/// The comma-separated directives of a header value, trimmed and lower-cased.
fn directives(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(|d| d.trim().to_ascii_lowercase())
        .collect()
}

#[test]
fn every_response_header_sent_is_checked_by_a_rule_below() {
    let names: Vec<&str> = response_headers(HttpVersion::Http11)
        .iter()
        .map(|h| h.0)
        .collect();
    assert_eq!(
        names,
        [
            "content-type",
            "cache-control",
            "x-accel-buffering",
            "connection"
        ]
    );
    for version in [HttpVersion::Http10, HttpVersion::Http2, HttpVersion::Http3] {
        let names: Vec<&str> = response_headers(version).iter().map(|h| h.0).collect();
        assert_eq!(
            names,
            ["content-type", "cache-control", "x-accel-buffering"],
            "{version:?}"
        );
    }
}

#[test]
fn content_type_has_the_event_stream_essence_and_only_a_utf_8_charset() {
    assert_eq!(EVENT_STREAM_MIME_TYPE, "text/event-stream");
    for version in ALL_VERSIONS {
        let value = header(version, "content-type").expect("a content type");
        assert_eq!(value, EVENT_STREAM_CONTENT_TYPE, "{version:?}");
        // The essence is what every client checks (WHATWG: parameters are ignored).
        assert!(is_event_stream(value.as_bytes()), "{version:?}");
        let mut parts = value.split(';').map(str::trim);
        assert_eq!(parts.next(), Some(EVENT_STREAM_MIME_TYPE));
        // An event stream is UTF-8 only: the one parameter it may carry is charset=utf-8,
        // sent for the clients that decode by the header's charset.
        let parameters: Vec<(String, String)> = parts
            .map(|p| {
                let (name, value) = p.split_once('=').expect("name=value");
                (name.to_ascii_lowercase(), value.to_ascii_lowercase())
            })
            .collect();
        assert_eq!(
            parameters,
            [("charset".to_string(), "utf-8".to_string())],
            "{version:?}"
        );
    }
}

#[test]
fn cache_control_is_no_store_so_no_cache_keeps_or_replays_the_stream() {
    // RFC 9111: `no-store` forbids storing any part of the response; `no-cache` would allow
    // storing it and reusing it after revalidation, and a directive such as `public` or
    // `max-age` beside it would only muddy that.
    for version in ALL_VERSIONS {
        let value = header(version, "cache-control").expect("a cache-control header");
        assert_eq!(directives(value), ["no-store"], "{version:?}");
    }
}

#[test]
fn x_accel_buffering_is_no_so_nginx_forwards_each_event_at_once() {
    for version in ALL_VERSIONS {
        assert_eq!(
            header(version, "x-accel-buffering"),
            Some("no"),
            "{version:?}"
        );
    }
}

#[test]
fn connection_keep_alive_is_sent_on_http11_only() {
    assert_eq!(
        header(HttpVersion::Http11, "connection").map(directives),
        Some(vec!["keep-alive".to_string()])
    );
    for version in MULTIPLEXED {
        assert_eq!(header(version, "connection"), None, "{version:?}");
    }
}

/// RFC 9112 section 6.3: an HTTP/1.0 response with no length ends when the connection
/// closes, which is how a stream ends there (no chunked coding): `keep-alive` would promise
/// a persistent connection the body cannot give.
#[test]
fn rfc9112_an_http10_stream_is_close_delimited_so_no_keep_alive() {
    assert_eq!(header(HttpVersion::Http10, "connection"), None);
}

#[test]
fn http2_and_http3_responses_carry_no_connection_specific_header() {
    // RFC 9113 section 8.2.2 and RFC 9114 section 4.2: a message with any of these is
    // malformed.
    for version in MULTIPLEXED {
        for name in [
            "connection",
            "keep-alive",
            "proxy-connection",
            "transfer-encoding",
            "upgrade",
        ] {
            assert_eq!(header(version, name), None, "{name} on {version:?}");
        }
    }
}

#[test]
fn header_names_are_lower_case() {
    // Required on the wire by HTTP/2 and HTTP/3 (RFC 9113 section 8.2.1).
    for version in ALL_VERSIONS {
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

/// RFC 9110 section 12.5.1: the most specific matching range decides, and `q=0` means "not
/// acceptable"; no header, or an empty one, accepts anything.
#[test]
fn accept_header_allows_an_event_stream_by_its_most_specific_range() {
    let allowed: &[&[u8]] = &[
        b"text/event-stream",
        b"TEXT/Event-Stream",
        b" text/event-stream ; charset=utf-8 ",
        b"text/*",
        b"*/*",
        b"",
        b"  ",
        b"application/json, text/event-stream;q=0.5",
        b"text/html, */*;q=0.8", // what a browser's navigation sends
        b"text/event-stream;q=0.001",
        b"text/event-stream;q=1, text/event-stream;q=0", // equally specific: one allows
        b"*/*;q=0, text/event-stream",                   // the specific range wins
        b"text/event-stream;q=bad",                      // malformed weight: read past
        b"text/event-stream;q=0.0001",                   // not a weight of zero
    ];
    let refused: &[&[u8]] = &[
        b"application/json",
        b"text/html",
        b"text/event-streams",
        b"text/event-stream;q=0",
        b"text/event-stream; Q=0.000",
        b"text/event-stream;q=0.",
        b"text/event-stream;q=0, */*",
        b"text/*;q=0, */*",
        b"*/*;q=0",
        b",",
    ];
    assert!(accepts_event_stream(None));
    for accept in allowed {
        assert!(
            accepts_event_stream(Some(accept)),
            "{:?}",
            String::from_utf8_lossy(accept)
        );
    }
    for accept in refused {
        assert!(
            !accepts_event_stream(Some(accept)),
            "{:?}",
            String::from_utf8_lossy(accept)
        );
    }
}
