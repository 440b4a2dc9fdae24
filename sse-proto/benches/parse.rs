//! Parser throughput: sse-proto against the other Rust SSE parsers and a `memchr2` scan, on
//! the same corpora and chunkings, in one run. See docs/performance.md for how to run it and
//! the recorded figures.
//!
//! Every measured function checks its own answer (event count and data bytes) against what
//! the corpus generator says a conforming parser must produce, so a fast wrong answer cannot
//! pass. Peers that disagree on a corpus are reported before the measurements and measured
//! anyway (their figure is then marked in the docs).

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use futures_core::Stream;

#[path = "corpus/mod.rs"]
mod corpus;

/// Counts allocations, so the report can give allocations per event for every parser.
struct CountingAllocator;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

/// What a parser dispatched: the numbers every parser must agree on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Tally {
    events: usize,
    data_bytes: usize,
}

impl Tally {
    #[inline]
    fn add(&mut self, data: &str) {
        self.events += 1;
        self.data_bytes += data.len();
    }
}

type ParseFn = fn(&[Bytes]) -> Tally;

/// The parsers in the order they are reported. `memchr2` is the floor, not a parser: its
/// tally is the number of line-end bytes, checked separately.
const PARSERS: &[(&str, ParseFn)] = &[
    ("sse-proto", run_sse_proto),
    ("sse-proto-slices", run_sse_proto_slices),
    ("sse-proto-ref", run_sse_proto_ref),
    ("sse-parse", run_sse_parse),
    ("sse-core", run_sse_core),
    ("sseer", run_sseer),
    ("sse-stream", run_sse_stream),
    ("eventsource-stream", run_eventsource_stream),
];

/// sse-proto fed `Bytes` chunks as an HTTP body hands them out (`poll_bytes`: a single data
/// line lying whole in a chunk is shared, not copied).
fn run_sse_proto(chunks: &[Bytes]) -> Tally {
    let mut parser = sse_proto::Parser::new();
    let mut tally = Tally::default();
    for chunk in chunks {
        let mut input = chunk.clone();
        tally_until_need_data(&mut tally, || parser.poll_bytes(&mut input));
    }
    parser.finish();
    tally
}

/// sse-proto fed borrowed `&[u8]` chunks (`poll`: data is copied into the parser's buffer).
fn run_sse_proto_slices(chunks: &[Bytes]) -> Tally {
    let mut parser = sse_proto::Parser::new();
    let mut tally = Tally::default();
    for chunk in chunks {
        let mut input: &[u8] = chunk;
        tally_until_need_data(&mut tally, || parser.poll(&mut input));
    }
    parser.finish();
    tally
}

/// sse-proto fed borrowed `&[u8]` chunks, lending each event (`poll_ref`: no allocation,
/// copy or reference count for a single data line lying whole in a chunk).
fn run_sse_proto_ref(chunks: &[Bytes]) -> Tally {
    let mut parser = sse_proto::Parser::new();
    let mut tally = Tally::default();
    for chunk in chunks {
        let mut input: &[u8] = chunk;
        loop {
            match parser.poll_ref(&mut input) {
                Ok(sse_proto::StepRef::Event(event)) => tally.add(event.data()),
                Ok(sse_proto::StepRef::NeedData) => break,
                Ok(_) => {}
                Err(error) => panic!("sse-proto: {error}"),
            }
        }
    }
    parser.finish();
    tally
}

/// Counts the events `poll` yields until it asks for more data.
#[inline(always)]
fn tally_until_need_data(
    tally: &mut Tally,
    mut poll: impl FnMut() -> Result<sse_proto::Step, sse_proto::ParseError>,
) {
    loop {
        match poll() {
            Ok(sse_proto::Step::Event(event)) => tally.add(event.data()),
            Ok(sse_proto::Step::NeedData) => return,
            Ok(_) => {}
            Err(error) => panic!("sse-proto: {error}"),
        }
    }
}

fn run_sse_parse(chunks: &[Bytes]) -> Tally {
    let mut parser = sse_parse::SseParser::new();
    let mut tally = Tally::default();
    for chunk in chunks {
        parser.feed(chunk);
        while let Some(event) = parser.next_event() {
            tally.add(&event.data);
        }
    }
    parser.finish();
    while let Some(event) = parser.next_event() {
        tally.add(&event.data);
    }
    tally
}

fn run_sse_core(chunks: &[Bytes]) -> Tally {
    let mut decoder = sse_core::SseDecoder::new();
    let mut tally = Tally::default();
    for chunk in chunks {
        let mut buf: &[u8] = chunk;
        while let Some(result) = decoder.next(&mut buf) {
            if let Ok(sse_core::SseEvent::Message(message)) = result {
                tally.add(&message.data);
            }
        }
    }
    tally
}

/// An in-memory body: the chunks, ready at once, for the stream-only parsers. Yields clones
/// (reference-count bumps), as a real body hands out `Bytes`.
struct MemoryBody<'a> {
    chunks: std::slice::Iter<'a, Bytes>,
}

impl<'a> MemoryBody<'a> {
    fn new(chunks: &'a [Bytes]) -> Self {
        MemoryBody {
            chunks: chunks.iter(),
        }
    }
}

impl Stream for MemoryBody<'_> {
    type Item = Result<Bytes, std::io::Error>;
    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Self::Item>> {
        Poll::Ready(self.chunks.next().cloned().map(Ok))
    }
}

/// Drives a stream to its end with a no-op waker: no runtime, nothing pending.
fn drain<S: Stream>(stream: S, mut each: impl FnMut(S::Item)) {
    let mut stream = pin!(stream);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        match stream.as_mut().poll_next(&mut cx) {
            Poll::Ready(Some(item)) => each(item),
            Poll::Ready(None) => return,
            Poll::Pending => unreachable!("in-memory body is never pending"),
        }
    }
}

fn run_sseer(chunks: &[Bytes]) -> Tally {
    let mut tally = Tally::default();
    drain(
        sseer::event_stream::EventStream::new(MemoryBody::new(chunks)),
        |item| {
            if let Ok(event) = item {
                tally.add(&event.data);
            }
        },
    );
    tally
}

fn run_sse_stream(chunks: &[Bytes]) -> Tally {
    let mut tally = Tally::default();
    drain(
        sse_stream::SseByteStream::new(MemoryBody::new(chunks)),
        |item| {
            // It returns every block, metadata-only ones too; count those with data.
            if let Ok(sse_stream::Sse {
                data: Some(data), ..
            }) = item
            {
                tally.add(&data);
            }
        },
    );
    tally
}

fn run_eventsource_stream(chunks: &[Bytes]) -> Tally {
    let mut tally = Tally::default();
    drain(
        eventsource_stream::EventStream::new(MemoryBody::new(chunks)),
        |item| {
            if let Ok(event) = item {
                tally.add(&event.data);
            }
        },
    );
    tally
}

fn memchr2_scan(chunks: &[Bytes]) -> usize {
    chunks
        .iter()
        .map(|chunk| memchr::memchr2_iter(b'\r', b'\n', chunk).count())
        .sum()
}

/// The chunkings measured: whole corpus, 4 KiB chunks, and 1-byte chunks on a prefix.
struct Chunking {
    name: &'static str,
    chunk_size: Option<usize>,
    /// `Some(len)`: use the corpus regenerated at this smaller size (1-byte feeding is slow
    /// for everyone; a prefix regenerated by the same code keeps the expected answer exact).
    corpus_len: Option<usize>,
}

const CHUNKINGS: &[Chunking] = &[
    Chunking {
        name: "whole",
        chunk_size: None,
        corpus_len: None,
    },
    Chunking {
        name: "4096",
        chunk_size: Some(4096),
        corpus_len: None,
    },
    Chunking {
        name: "1-byte",
        chunk_size: Some(1),
        corpus_len: Some(128 * 1024),
    },
];

/// Before measuring: every parser's answer on every corpus, and allocations per event at
/// 4 KiB chunks. Disagreements are printed, not fatal: the point is to know.
/// Where the side files for `docs/perf/report.py` go: beside criterion's own output.
fn side_file(name: &str) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/criterion");
    let _ = std::fs::create_dir_all(&dir);
    dir.join(name)
}

fn report_agreement_and_allocations() {
    println!("parser agreement and allocations per event (4096-byte chunks):");
    // {"corpus/parser": allocations per event}, read by docs/perf/report.py.
    let mut json = Vec::new();
    for corpus in corpus::all() {
        let expected = Tally {
            events: corpus.events,
            data_bytes: corpus.data_bytes,
        };
        let chunks = corpus::chunks(&corpus.bytes, 4096);
        for (name, parse) in PARSERS {
            let before = ALLOCATIONS.load(Ordering::Relaxed);
            let got = parse(&chunks);
            let allocations = ALLOCATIONS.load(Ordering::Relaxed) - before;
            let verdict = if got == expected {
                "agrees"
            } else {
                "DISAGREES"
            };
            println!(
                "  {:<15} {:<19} {verdict:<9} events {:>7}/{:<7} data {:>9}/{:<9} allocs/event {:.3}",
                corpus.name,
                name,
                got.events,
                expected.events,
                got.data_bytes,
                expected.data_bytes,
                allocations as f64 / expected.events as f64,
            );
            json.push(format!(
                "\"{}/{}\": {{\"allocs_per_event\": {:.4}, \"agrees\": {}}}",
                corpus.name,
                name,
                allocations as f64 / expected.events as f64,
                got == expected
            ));
        }
    }
    let _ = std::fs::write(
        side_file("sse-allocations.json"),
        format!("{{{}}}\n", json.join(",\n")),
    );
}

fn bench_parsers(c: &mut Criterion) {
    // Skippable when profiling one function (the report runs every parser on every corpus).
    if std::env::var_os("SSE_BENCH_NO_REPORT").is_none() {
        report_agreement_and_allocations();
    }
    // {"parse/<corpus>/<chunking>": events}, so the report can give events per second.
    let mut events_json = Vec::new();
    for chunking in CHUNKINGS {
        let corpora = match chunking.corpus_len {
            Some(len) => corpus::all_with_len(len),
            None => corpus::all_with_len(corpus::TARGET_LEN),
        };
        for corpus in corpora.iter() {
            let expected = Tally {
                events: corpus.events,
                data_bytes: corpus.data_bytes,
            };
            let chunks = match chunking.chunk_size {
                Some(size) => corpus::chunks(&corpus.bytes, size),
                None => vec![Bytes::copy_from_slice(&corpus.bytes)],
            };
            let line_ends = corpus
                .bytes
                .iter()
                .filter(|&&b| b == b'\r' || b == b'\n')
                .count();
            let group_name = format!("parse/{}/{}", corpus.name, chunking.name);
            events_json.push(format!("\"{group_name}\": {}", corpus.events));
            let mut group = c.benchmark_group(group_name);
            group.throughput(Throughput::Bytes(corpus.bytes.len() as u64));
            for (name, parse) in PARSERS {
                // eventsource-stream is quadratic on one large chunk (13 s per pass over the
                // 4 MiB `mixed` corpus); it is the slowest parser in every other group, so
                // leaving it out of the `whole` groups changes no ratio.
                if *name == "eventsource-stream" && chunking.name == "whole" {
                    continue;
                }
                group.bench_function(BenchmarkId::from_parameter(name), |b| {
                    // Inside the closure so that filtered-out benchmarks cost nothing.
                    let agrees = parse(&chunks) == expected;
                    b.iter(|| {
                        let got = parse(black_box(&chunks));
                        // Ours must be right; a peer that disagrees was reported above.
                        if agrees || name.starts_with("sse-proto") {
                            assert_eq!(got, expected, "{name} on {}", corpus.name);
                        }
                        got
                    })
                });
            }
            group.bench_function(BenchmarkId::from_parameter("memchr2-scan"), |b| {
                b.iter(|| {
                    let found = memchr2_scan(black_box(&chunks));
                    assert_eq!(found, line_ends);
                    found
                })
            });
            group.finish();
        }
    }
    let _ = std::fs::write(
        side_file("sse-events.json"),
        format!("{{{}}}\n", events_json.join(",\n")),
    );
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
    targets = bench_parsers
}
criterion_main!(benches);
