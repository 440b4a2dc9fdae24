//! Encoder throughput: sse-proto against the encoders of sse-stream and axum and a
//! hand-written `extend_from_slice` baseline, on the same events, in one run; plus the cost
//! of broadcasting one frame to 10,000 subscribers. See docs/performance.md.
//!
//! Each measured function checks its output length against sse-proto's exact
//! `encoded_len` total (all encoders here write the same field order, with the space after
//! each colon), and before measuring every encoder's output is parsed back and compared with
//! the source events, so a fast wrong answer cannot pass.

use std::hint::black_box;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use futures_core::Stream;
use http_body::Body as _;

#[path = "corpus/mod.rs"]
mod corpus;

use corpus::SourceEvent;

const EVENTS: usize = 20_000;

fn to_sse_proto(source: &SourceEvent) -> sse_proto::Event {
    let mut builder = sse_proto::Event::builder().data(source.data.clone());
    if let Some(event) = &source.event {
        builder = builder.event(event.clone());
    }
    if let Some(id) = &source.id {
        builder = builder.id(id.clone());
    }
    builder.build().expect("bench events are valid")
}

fn to_sse_stream(source: &SourceEvent) -> sse_stream::Sse {
    sse_stream::Sse {
        event: source.event.clone(),
        data: Some(source.data.clone()),
        id: source.id.clone(),
        retry: None,
    }
}

fn to_axum(source: &SourceEvent) -> axum::response::sse::Event {
    let mut event = axum::response::sse::Event::default();
    if let Some(name) = &source.event {
        event = event.event(name);
    }
    if let Some(id) = &source.id {
        event = event.id(id);
    }
    event.data(&source.data)
}

/// sse-proto, the intended use: events already built (validated once), encoded into a
/// reused buffer.
fn encode_sse_proto(events: &[sse_proto::Event], out: &mut BytesMut) -> usize {
    out.clear();
    for event in events {
        sse_proto::encode(event, out).expect("a BytesMut grows");
    }
    out.len()
}

/// sse-proto building each event from the source strings first, as the peers must.
fn build_and_encode_sse_proto(sources: &[SourceEvent], out: &mut BytesMut) -> usize {
    out.clear();
    for source in sources {
        sse_proto::encode(&to_sse_proto(source), out).expect("a BytesMut grows");
    }
    out.len()
}

/// sse-stream: `Sse::encode` takes the event by value and returns fresh `Bytes`.
fn encode_sse_stream(sources: &[sse_stream::Sse], out: &mut BytesMut) -> usize {
    out.clear();
    for sse in sources {
        let bytes = sse.clone().encode().expect("valid");
        out.extend_from_slice(&bytes);
    }
    out.len()
}

/// axum: the only public way to get an `Event`'s bytes is its `Sse` response body, driven
/// here with a no-op waker; each event is built as a handler would.
struct AxumEvents {
    sources: Arc<Vec<SourceEvent>>,
    next: usize,
}

impl Stream for AxumEvents {
    type Item = Result<axum::response::sse::Event, std::convert::Infallible>;
    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Self::Item>> {
        let n = self.next;
        self.next += 1;
        Poll::Ready(self.sources.get(n).map(|source| Ok(to_axum(source))))
    }
}

fn encode_axum(sources: &Arc<Vec<SourceEvent>>, out: &mut BytesMut) -> usize {
    use axum::response::IntoResponse;
    out.clear();
    let stream = AxumEvents {
        sources: Arc::clone(sources),
        next: 0,
    };
    let body = axum::response::sse::Sse::new(stream)
        .into_response()
        .into_body();
    let mut body = pin!(body);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        match body.as_mut().poll_frame(&mut cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Ok(data) = frame.into_data() {
                    out.extend_from_slice(&data);
                }
            }
            Poll::Ready(None) => return out.len(),
            Poll::Ready(Some(Err(error))) => panic!("axum body: {error}"),
            Poll::Pending => unreachable!("in-memory stream is never pending"),
        }
    }
}

/// The floor: writing the same bytes by hand with `extend_from_slice`, no validation.
fn encode_baseline(sources: &[SourceEvent], out: &mut Vec<u8>) -> usize {
    out.clear();
    for source in sources {
        if let Some(event) = &source.event {
            out.extend_from_slice(b"event: ");
            out.extend_from_slice(event.as_bytes());
            out.push(b'\n');
        }
        if let Some(id) = &source.id {
            out.extend_from_slice(b"id: ");
            out.extend_from_slice(id.as_bytes());
            out.push(b'\n');
        }
        // The bench data has only LF line breaks.
        let data = source.data.as_bytes();
        let mut start = 0;
        for end in memchr::memchr_iter(b'\n', data).chain(std::iter::once(data.len())) {
            out.extend_from_slice(b"data: ");
            out.extend_from_slice(&data[start..end]);
            out.push(b'\n');
            start = end + 1;
        }
        out.push(b'\n');
    }
    out.len()
}

/// Parses `bytes` and returns (type, data, id-field-or-last-id) per event.
fn parse_back(bytes: &[u8]) -> Vec<(String, String)> {
    let mut parser = sse_proto::Parser::new();
    let mut input = bytes;
    let mut out = Vec::new();
    loop {
        match parser.poll(&mut input).expect("within limits") {
            sse_proto::Step::Event(event) => {
                out.push((event.event_type().to_owned(), event.data().to_owned()))
            }
            sse_proto::Step::NeedData => return out,
            _ => {}
        }
    }
}

fn bench_encoders(c: &mut Criterion) {
    for (name, sources) in corpus::encode_sets(EVENTS) {
        let events: Vec<sse_proto::Event> = sources.iter().map(to_sse_proto).collect();
        let sse_stream_events: Vec<sse_stream::Sse> = sources.iter().map(to_sse_stream).collect();
        let shared_sources = Arc::new(sources.clone());
        let expected_len: usize = events.iter().map(sse_proto::encoded_len).sum();
        let expected: Vec<(String, String)> = sources
            .iter()
            .map(|s| {
                let event_type = s.event.clone().unwrap_or_else(|| "message".into());
                (event_type, s.data.clone())
            })
            .collect();

        // Every encoder's output must parse back to the source events.
        let mut buf = BytesMut::new();
        let mut vec = Vec::new();
        encode_sse_proto(&events, &mut buf);
        assert_eq!(parse_back(&buf), expected, "sse-proto on {name}");
        encode_sse_stream(&sse_stream_events, &mut buf);
        assert_eq!(parse_back(&buf), expected, "sse-stream on {name}");
        encode_axum(&shared_sources, &mut buf);
        assert_eq!(parse_back(&buf), expected, "axum on {name}");
        encode_baseline(&sources, &mut vec);
        assert_eq!(parse_back(&vec), expected, "baseline on {name}");

        let mut group = c.benchmark_group(format!("encode/{name}"));
        group.throughput(Throughput::Bytes(expected_len as u64));
        let mut buf = BytesMut::with_capacity(expected_len);
        group.bench_function(BenchmarkId::from_parameter("sse-proto"), |b| {
            b.iter(|| assert_eq!(encode_sse_proto(black_box(&events), &mut buf), expected_len))
        });
        group.bench_function(BenchmarkId::from_parameter("sse-proto-build"), |b| {
            b.iter(|| {
                assert_eq!(
                    build_and_encode_sse_proto(black_box(&sources), &mut buf),
                    expected_len
                )
            })
        });
        group.bench_function(BenchmarkId::from_parameter("sse-stream"), |b| {
            b.iter(|| {
                assert_eq!(
                    encode_sse_stream(black_box(&sse_stream_events), &mut buf),
                    expected_len
                )
            })
        });
        group.bench_function(BenchmarkId::from_parameter("axum"), |b| {
            b.iter(|| {
                assert_eq!(
                    encode_axum(black_box(&shared_sources), &mut buf),
                    expected_len
                )
            })
        });
        let mut vec = Vec::with_capacity(expected_len);
        group.bench_function(BenchmarkId::from_parameter("extend-baseline"), |b| {
            b.iter(|| assert_eq!(encode_baseline(black_box(&sources), &mut vec), expected_len))
        });
        group.finish();
    }
}

/// One event to 10,000 subscribers: one encode, then a reference-count bump per subscriber.
fn bench_broadcast(c: &mut Criterion) {
    let event = sse_proto::Event::builder()
        .event("price")
        .id("42")
        .data("{\"eur\":17,\"usd\":18}")
        .build()
        .expect("valid");
    let mut subscribers: Vec<Vec<Bytes>> = (0..10_000).map(|_| Vec::with_capacity(1)).collect();
    let mut group = c.benchmark_group("broadcast/10000-subscribers");
    group.throughput(Throughput::Elements(10_000));
    group.bench_function(BenchmarkId::from_parameter("sse-proto-frame"), |b| {
        b.iter(|| {
            let frame = sse_proto::Frame::from_event(black_box(&event));
            for queue in subscribers.iter_mut() {
                queue.clear();
                queue.push(frame.as_bytes().clone());
            }
            frame.len()
        })
    });
    group.bench_function(BenchmarkId::from_parameter("encode-per-subscriber"), |b| {
        b.iter(|| {
            let mut total = 0;
            for queue in subscribers.iter_mut() {
                queue.clear();
                let frame = sse_proto::Frame::from_event(black_box(&event));
                total += frame.len();
                queue.push(frame.into_bytes());
            }
            total
        })
    });
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}

criterion_group! {
    name = benches;
    config = config();
    targets = bench_encoders, bench_broadcast
}
criterion_main!(benches);
