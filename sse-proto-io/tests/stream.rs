//! `EventStream` against the parser: arbitrary bytes under arbitrary chunking give exactly
//! what the parser gives for the whole input (events, limit errors, last event ID and
//! reconnection time), and a failing transport is reported without losing the events around
//! it.

use std::time::Duration;

use bytes::Bytes;
use futures_util::{stream, StreamExt};
use proptest::prelude::*;
use sse_proto::{Event, ParseError, Parser, ParserConfig, Step};
use sse_proto_io::{EventStream, StreamError};

#[derive(Debug, PartialEq)]
enum Out {
    Event(Event),
    Limit(ParseError),
}

/// What the parser gives for the whole input, then the end of the stream.
fn parse_whole(input: &[u8], config: &ParserConfig) -> (Vec<Out>, String, Option<Duration>) {
    let mut parser = Parser::with_config(config.clone());
    let mut rest = input;
    let mut outs = Vec::new();
    let mut retry = None;
    loop {
        match parser.poll(&mut rest) {
            Ok(Step::Event(event)) => outs.push(Out::Event(event)),
            Ok(Step::Retry(delay)) => retry = Some(delay),
            Ok(Step::NeedData) => break,
            Ok(_) => {}
            Err(limit) => outs.push(Out::Limit(limit)),
        }
    }
    parser.finish();
    (outs, parser.last_event_id().to_owned(), retry)
}

/// The input cut at `cuts` (positions, any order, repeats allowed: empty chunks too).
fn chunks(input: &[u8], cuts: &[usize]) -> Vec<Bytes> {
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (input.len() + 1)).collect();
    cuts.sort_unstable();
    let mut out = Vec::new();
    let mut start = 0;
    for cut in cuts {
        out.push(Bytes::copy_from_slice(&input[start..cut]));
        start = cut;
    }
    out.push(Bytes::copy_from_slice(&input[start..]));
    out
}

fn through_stream(
    chunks: Vec<Bytes>,
    config: &ParserConfig,
) -> (Vec<Out>, String, Option<Duration>) {
    futures_executor::block_on(async {
        let inner = stream::iter(chunks.into_iter().map(Ok::<_, std::io::Error>));
        let mut events = EventStream::with_config(inner, config.clone());
        let mut outs = Vec::new();
        while let Some(item) = events.next().await {
            outs.push(match item {
                Ok(event) => Out::Event(event),
                Err(StreamError::Parse(limit)) => Out::Limit(limit),
                Err(other) => panic!("{other}"),
            });
        }
        (
            outs,
            events.last_event_id().to_owned(),
            events.reconnection_time(),
        )
    })
}

/// Bytes with a high share of the ones that matter to the grammar.
fn sse_bytes() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(b"data: x\n".to_vec()),
        Just(b"data:\n".to_vec()),
        Just(b"id: 1\n".to_vec()),
        Just(b"id\n".to_vec()),
        Just(b"event: e\n".to_vec()),
        Just(b"retry: 250\n".to_vec()),
        Just(b": c\n".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"\r".to_vec()),
        Just(b"\xEF\xBB\xBF".to_vec()),
        Just("é".as_bytes().to_vec()),
        Just(b"\xC3".to_vec()),
        proptest::collection::vec(any::<u8>(), 0..8),
    ];
    proptest::collection::vec(piece, 0..40).prop_map(|pieces| pieces.concat())
}

proptest! {
    #[test]
    fn any_chunking_gives_what_the_parser_gives(
        input in sse_bytes(),
        cuts in proptest::collection::vec(any::<usize>(), 0..12),
        small_limits in any::<bool>(),
    ) {
        let mut config = ParserConfig::default();
        if small_limits {
            config.max_line_len = 12;
            config.max_event_len = 16;
        }
        let want = parse_whole(&input, &config);
        prop_assert_eq!(through_stream(chunks(&input, &cuts), &config), want);
    }
}

#[test]
fn byte_at_a_time_gives_what_whole_input_gives() {
    let input =
        "\u{feff}retry: 10\r\nid: 7\r\nevent: a\r\ndata: é1\r\ndata: 2\r\n\r\n: c\n\ndata: half"
            .as_bytes();
    let config = ParserConfig::default();
    let cuts: Vec<usize> = (0..=input.len()).collect();
    let got = through_stream(chunks(input, &cuts), &config);
    assert_eq!(got, parse_whole(input, &config));
    assert_eq!(got.0.len(), 1, "the half event at the end is discarded");
    assert_eq!(
        (got.1.as_str(), got.2),
        ("7", Some(Duration::from_millis(10)))
    );
}

#[test]
fn a_transport_error_is_yielded_between_the_events_around_it() {
    futures_executor::block_on(async {
        let inner = stream::iter([
            Ok(Bytes::from_static(b"data: a\n\ndata: b")),
            Err("reset"),
            Ok(Bytes::from_static(b"\n\n")),
        ]);
        let items: Vec<_> = EventStream::new(inner).collect().await;
        assert_eq!(items.len(), 3);
        assert_eq!(items[0].as_ref().unwrap().data(), "a");
        assert!(matches!(items[1], Err(StreamError::Transport("reset"))));
        assert_eq!(items[2].as_ref().unwrap().data(), "b");
    });
}

#[test]
fn an_endless_line_is_bounded_by_the_limit() {
    let mut config = ParserConfig::default();
    config.max_line_len = 1024;
    let chunk = Bytes::from(vec![b'a'; 64 * 1024]);
    let inner = stream::iter((0..64).map(|_| Ok::<_, std::io::Error>(chunk.clone()))).chain(
        stream::iter([Ok(Bytes::from_static(b"\n\ndata: after\n\n"))]),
    );
    let items: Vec<_> =
        futures_executor::block_on(EventStream::with_config(inner, config).collect());
    assert!(matches!(
        items[0],
        Err(StreamError::Parse(ParseError::LineTooLong {
            len: 4_194_304,
            limit: 1024
        }))
    ));
    assert_eq!(items[1].as_ref().unwrap().data(), "after");
}
