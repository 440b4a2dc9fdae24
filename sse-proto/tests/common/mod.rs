//! Helpers shared by the integration tests: drive the real parser over a given chunking and
//! check that every chunking of an input gives the same, expected, steps.
#![allow(dead_code)] // each test binary uses its own subset

pub mod naive;

pub use naive::Out;
use sse_proto::{ParseError, Parser, ParserConfig, Step};

/// What one poll reported, in the model's vocabulary.
pub type Outcome = Result<Out, ParseError>;

/// A `message` event with this data and id.
pub fn msg(data: &str, id: Option<&str>) -> Out {
    ev("message", data, id)
}

/// An event of this type with this data and id.
pub fn ev(event_type: &str, data: &str, id: Option<&str>) -> Out {
    Out::Event {
        event_type: event_type.to_string(),
        data: data.to_string(),
        id: id.map(str::to_string),
    }
}

/// A config with these limits (comments off).
pub fn limits(max_line_len: usize, max_event_len: usize) -> ParserConfig {
    let mut config = ParserConfig::default();
    config.max_line_len = max_line_len;
    config.max_event_len = max_event_len;
    config
}

/// The default config with comments reported.
pub fn with_comments() -> ParserConfig {
    let mut config = ParserConfig::default();
    config.emit_comments = true;
    config
}

/// Bytes as a readable, escaped string, for failure messages.
pub fn show(bytes: &[u8]) -> String {
    bytes.escape_ascii().to_string()
}

fn show_chunks(chunks: &[&[u8]]) -> String {
    let shown: Vec<String> = chunks.iter().map(|c| show(c)).collect();
    format!("[{}]", shown.join("|"))
}

/// Checks what must hold after every poll, whatever it returned.
pub fn check_bounds(parser: &Parser, config: &ParserConfig) {
    let bound = config.max_line_len.saturating_add(config.max_event_len);
    assert!(
        parser.buffered_len() <= bound,
        "buffered_len {} above max_line_len + max_event_len = {bound}",
        parser.buffered_len()
    );
}

/// Runs a fresh parser over `chunks` with `poll`, calls `finish()`, and returns every step
/// (errors included) and the final last event ID. Also checks the poll contract: `NeedData`
/// leaves the input empty, every other step consumes at least one byte, and after `finish()`
/// polls say `End` without touching the input.
pub fn run(config: &ParserConfig, chunks: &[&[u8]]) -> (Vec<Outcome>, String) {
    run_with(config, chunks, |parser, input| {
        let mut rest: &[u8] = input;
        let step = parser.poll(&mut rest);
        let consumed = input.len() - rest.len();
        bytes::Buf::advance(input, consumed);
        step
    })
}

/// Like [`run`], but through `poll_bytes`, each chunk its own `Bytes` (the path that keeps a
/// long single data line as a slice of the chunk instead of copying it).
pub fn run_bytes(config: &ParserConfig, chunks: &[&[u8]]) -> (Vec<Outcome>, String) {
    run_with(config, chunks, Parser::poll_bytes)
}

/// Like [`run`], but through `poll_ref`, each lent step turned into the owned one (and the
/// lent event checked equal to its copy).
pub fn run_ref(config: &ParserConfig, chunks: &[&[u8]]) -> (Vec<Outcome>, String) {
    run_with(config, chunks, |parser, input| {
        poll_ref_owned(parser, input)
    })
}

/// Like [`run`], but each call takes turns between `poll_ref`, `poll_bytes` and `poll`: what
/// one entry point lends or keeps must not leak into the steps of another.
pub fn run_alternating(config: &ParserConfig, chunks: &[&[u8]]) -> (Vec<Outcome>, String) {
    let mut call = 0usize;
    run_with(config, chunks, move |parser, input| {
        call += 1;
        match call % 3 {
            0 => poll_ref_owned(parser, input),
            1 => parser.poll_bytes(input),
            _ => {
                let mut rest: &[u8] = input;
                let step = parser.poll(&mut rest);
                let consumed = input.len() - rest.len();
                bytes::Buf::advance(input, consumed);
                step
            }
        }
    })
}

fn poll_ref_owned(parser: &mut Parser, input: &mut bytes::Bytes) -> Result<Step, ParseError> {
    let mut rest: &[u8] = input;
    let step = parser.poll_ref(&mut rest).map(|lent| {
        let owned = lent.to_step();
        if let (sse_proto::StepRef::Event(lent), Step::Event(owned)) = (lent, &owned) {
            assert_eq!(&lent, owned, "a lent event and its copy differ");
        }
        owned
    });
    let consumed = input.len() - rest.len();
    bytes::Buf::advance(input, consumed);
    step
}

/// A driver: a fresh parser over the chunks, every step and the final last event ID.
pub type Driver = fn(&ParserConfig, &[&[u8]]) -> (Vec<Outcome>, String);

/// The drivers besides [`run`] (which goes through `poll`), by entry point.
pub const OTHER_ENTRY_POINTS: [(&str, Driver); 3] = [
    ("poll_bytes", run_bytes),
    ("poll_ref", run_ref),
    ("alternating poll_ref/poll_bytes/poll", run_alternating),
];

/// The driver behind [`run`] and the others: `poll` takes one step from the chunk.
fn run_with(
    config: &ParserConfig,
    chunks: &[&[u8]],
    mut poll: impl FnMut(&mut Parser, &mut bytes::Bytes) -> Result<Step, ParseError>,
) -> (Vec<Outcome>, String) {
    let mut parser = Parser::with_config(config.clone());
    let mut out = Vec::new();
    for chunk in chunks {
        let mut input = bytes::Bytes::copy_from_slice(chunk);
        loop {
            let before = input.len();
            let step = poll(&mut parser, &mut input);
            check_bounds(&parser, config);
            match step {
                Ok(Step::NeedData) => {
                    assert!(input.is_empty(), "NeedData with {} bytes left", input.len());
                    break;
                }
                Ok(Step::End) => panic!("End before finish()"),
                Ok(step) => out.push(Ok(naive::observe(&step).expect("a reportable step"))),
                Err(error) => out.push(Err(error)),
            }
            assert!(input.len() < before, "a step that consumed nothing");
        }
    }
    parser.finish();
    assert_eq!(parser.buffered_len(), 0, "finish() keeps no bytes");
    let mut rest: &[u8] = b"data: after the end\n\n";
    assert_eq!(parser.poll(&mut rest), Ok(Step::End));
    assert_eq!(rest.len(), 21, "End must not consume input");
    (out, parser.last_event_id().to_string())
}

/// Like [`run`], but through the `feed` iterator: its owned steps (`next`), or, when `lent`,
/// its lent ones (`next_ref`) turned into the owned ones.
fn run_feed(config: &ParserConfig, chunks: &[&[u8]], lent: bool) -> (Vec<Outcome>, String) {
    let mut parser = Parser::with_config(config.clone());
    let mut out = Vec::new();
    for chunk in chunks {
        let mut steps = parser.feed(chunk);
        loop {
            let step = if lent {
                steps.next_ref().map(|step| step.map(|lent| lent.to_step()))
            } else {
                steps.next()
            };
            let Some(step) = step else { break };
            out.push(step.map(|s| naive::observe(&s).expect("a reportable step")));
        }
        assert!(steps.remaining().is_empty(), "feed stopped early");
    }
    parser.finish();
    (out, parser.last_event_id().to_string())
}

/// The drivers through `Parser::feed`, owned and lent.
const FEED_DRIVERS: [(&str, Driver); 2] = [
    ("feed()", |config, chunks| run_feed(config, chunks, false)),
    ("feed().next_ref()", |config, chunks| {
        run_feed(config, chunks, true)
    }),
];

/// The chunkings every vector is run under, each with a name for failure messages: whole;
/// one byte at a time; split at every point; split at every pair of points when the input
/// is at most 48 bytes; and the same with empty chunks interleaved.
pub fn chunkings(input: &[u8]) -> Vec<Vec<&[u8]>> {
    const EMPTY: &[u8] = b"";
    let mut all: Vec<Vec<&[u8]>> = vec![
        vec![input],
        vec![EMPTY, input, EMPTY],
        input.chunks(1).collect(),
        input
            .chunks(1)
            .flat_map(|b| [EMPTY, b])
            .chain([EMPTY])
            .collect(),
    ];
    for i in 1..input.len() {
        let (a, b) = input.split_at(i);
        all.push(vec![a, b]);
        all.push(vec![a, EMPTY, b]);
    }
    if input.len() <= 48 {
        for i in 1..input.len() {
            for j in i + 1..input.len() {
                all.push(vec![&input[..i], &input[i..j], &input[j..]]);
            }
        }
    }
    all
}

/// Runs `input` under every chunking (see [`chunkings`]) with the default config and checks
/// that each run reports exactly `expected`; also checks the model agrees. Returns the final
/// last event ID, which all runs agreed on.
pub fn assert_all_chunkings(input: &[u8], expected: &[Out]) -> String {
    let expected: Vec<Outcome> = expected.iter().cloned().map(Ok).collect();
    assert_all_chunkings_with(&ParserConfig::default(), input, &expected)
}

/// [`assert_all_chunkings`] with a config and expected errors. When no error is expected,
/// the model (`naive::parse`) must agree too.
pub fn assert_all_chunkings_with(
    config: &ParserConfig,
    input: &[u8],
    expected: &[Outcome],
) -> String {
    let (whole, last_event_id) = run(config, &[input]);
    assert_eq!(whole, expected, "input {} whole", show(input));
    if expected.iter().all(Result::is_ok) {
        let (model, model_id) = naive::parse(input, config.emit_comments);
        let model: Vec<Outcome> = model.into_iter().map(Ok).collect();
        assert_eq!(model, expected, "the model disagrees on {}", show(input));
        assert_eq!(
            model_id,
            last_event_id,
            "last event ID vs model, {}",
            show(input)
        );
    }
    for (entry, driver) in FEED_DRIVERS {
        assert_eq!(
            driver(config, &[input]),
            (whole.clone(), last_event_id.clone()),
            "{entry} on {}",
            show(input)
        );
    }
    for chunks in chunkings(input) {
        let got = run(config, &chunks);
        assert_eq!(got.0, expected, "chunks {}", show_chunks(&chunks));
        assert_eq!(
            got.1,
            last_event_id,
            "last event ID, chunks {}",
            show_chunks(&chunks)
        );
        for (entry, driver) in OTHER_ENTRY_POINTS {
            assert_eq!(
                driver(config, &chunks),
                (expected.to_vec(), last_event_id.clone()),
                "{entry}, chunks {}",
                show_chunks(&chunks)
            );
        }
    }
    let bytes: Vec<&[u8]> = input.chunks(1).collect();
    for (entry, driver) in FEED_DRIVERS {
        assert_eq!(
            driver(config, &bytes),
            (whole.clone(), last_event_id.clone()),
            "{entry} byte by byte"
        );
    }
    last_event_id
}

/// Runs one given chunking with the default config and checks the steps.
pub fn assert_chunks(chunks: &[&[u8]], expected: &[Out]) -> String {
    let expected: Vec<Outcome> = expected.iter().cloned().map(Ok).collect();
    let (got, last_event_id) = run(&ParserConfig::default(), chunks);
    assert_eq!(got, expected, "chunks {}", show_chunks(chunks));
    last_event_id
}

/// Inputs worth padding and splitting in the oracle test: every spec vector and regression.
pub const SEEDS: &[&[u8]] = &[
    // Regressions.
    b"\xEF\xBB\xBFdata: a\n\n",
    b"data: a\n\n\xEF\xBB\xBFdata: b\n\n",
    b"data: a\xFFb\n\ndata: c\n\n",
    b"data: a\r\r",
    b"data: a\r\ndata: b\r\n\r\n",
    b"retry: 1500\n\ndata: a\n\n",
    b"retry: +1500\ndata: a\n\nretry: -5\nretry: 1_000\nretry: 15 \n\n",
    b"event: x\nevent\ndata: a\n\n",
    b"id: 1\ndata: a\n\nid\ndata: b\n\n",
    b"event:\ndata: a\n\n",
    b"id: 2\x00\ndata: b\n\n",
    b"foo: bar\n\nData: a\n\ndata : a\n\n",
    b"id: 1\ndata: a\n\n: ping\n\n",
    b"data: A\r\ndata: B\rdata: C\r\n\n",
    // Lines.
    b"data: a\rdata: b\r\r",
    b"data: a\n\rdata: b\n\n",
    b"data: a\xE2\x80\xA8b\x0c\x0b\xC2\x85c\n\n",
    b"\xEF\xBB\xBF\xEF\xBB\xBFdata: a\n\n",
    b"\xEF\xBBx\ndata: a\n\n",
    b"\xEF\xBB\xBE\ndata: \xEF\xBB\xBF\n\n",
    b"data: \xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\n\n",
    b"data: \xE2\x82\n\ndata: \xC3\n\xA9\n\n",
    // Fields.
    b"data:  two\ndata:\tx\ndata:x\n\n",
    b"data: a:b: c\n\n",
    b"data\n\ndata:\n\n",
    b"data: a\ndata\ndata: b\n\n",
    b"Data: a\n\nDATA: b\n\nEvent: x\ndata: c\n\n",
    b"event: a\nevent: b\ndata: x\n\n",
    b"id:  x y \ndata: a\n\n",
    b"retry: 0\nretry: 007\nretry: 18446744073709551615\nretry: 18446744073709551616\n",
    b"retry:\nretry\nretry: 1.5\nretry: \xD9\xA1\nretry: 0x10\n",
    b": hi\n:\n:  two\n:no space\ndata: a\n\n",
    // Dispatch.
    b"id: 5\n\ndata: a\n\n",
    b"data: a\nid: 2\n\nid: 3\n",
    b"id: 1\ndata: a\n\nid:\ndata: b\n\n",
    b"event: x\n\ndata: a\n\n",
    b"data: a\ndata\n\ndata\ndata\n\n",
    b"data: a\nretry: 10\n",
    b"data: a\n\ndata: b",
    b"id: 9\n\nid: 10",
];
