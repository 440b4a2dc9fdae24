//! `sse replay`: serves a recording (or any stream file) on a local port, for testing
//! clients: at its recorded timing or faster, in chosen chunks, cut in the middle of an event
//! to test resume, and resumed after the client's `Last-Event-ID`.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use clap::Args;
use http_body_util::StreamBody;
use hyper::body::Frame as BodyFrame;
use sse_proto::{Parser, Step};

use crate::listen::{self, ListenArgs};
use crate::recording::{self, Recording};

/// `sse replay`'s arguments.
#[derive(Args, Debug)]
pub struct ReplayArgs {
    /// A recording of `sse record`, or a plain stream file.
    pub file: std::path::PathBuf,
    #[command(flatten)]
    pub listen: ListenArgs,
    /// Play the timing this many times faster (0: no waits at all).
    #[arg(long, value_name = "X", default_value_t = 1.0)]
    pub speed: f64,
    /// Send in chunks of N bytes instead of the recorded ones.
    #[arg(long, value_name = "N", conflicts_with = "random_chunks")]
    pub chunk: Option<usize>,
    /// Send in chunks of random sizes (1 to 64 bytes) from this seed.
    #[arg(long, value_name = "SEED")]
    pub random_chunks: Option<u64>,
    /// On a request without Last-Event-ID, close the connection in the middle of the event
    /// after the Nth (to test that a client resumes).
    #[arg(long, value_name = "N")]
    pub cut_after: Option<u64>,
}

/// The stream to play and where each of its events ends.
struct Script {
    recording: Recording,
    /// The whole stream, the recorded chunks joined.
    bytes: Bytes,
    /// For each dispatched event, the offset just after it and the last event ID then.
    events: Vec<(usize, String)>,
    content_type: String,
}

impl Script {
    fn new(recording: Recording) -> Self {
        let joined: Vec<u8> = recording
            .chunks
            .iter()
            .flat_map(|(_, c)| c.iter().copied())
            .collect();
        let mut parser = Parser::new();
        let mut input: &[u8] = &joined;
        let mut events = Vec::new();
        loop {
            match parser.poll(&mut input) {
                Ok(Step::Event(_)) => events.push((
                    joined.len() - input.len(),
                    parser.last_event_id().to_owned(),
                )),
                Ok(Step::NeedData) | Ok(Step::End) => break,
                _ => {}
            }
        }
        let content_type = recording
            .header("content-type")
            .unwrap_or("text/event-stream; charset=utf-8")
            .to_owned();
        Script {
            recording,
            bytes: Bytes::from(joined),
            events,
            content_type,
        }
    }

    /// Where a client with `last_event_id` resumes: after the last event that left it in
    /// force (the start when the stream never set it).
    fn resume_at(&self, last_event_id: Option<&str>) -> usize {
        match last_event_id {
            None => 0,
            Some(id) => self
                .events
                .iter()
                .rev()
                .find(|(_, in_force)| in_force == id)
                .map_or(0, |(offset, _)| *offset),
        }
    }

    /// Where to cut a fresh connection: halfway into the event after the Nth.
    fn cut_at(&self, n: u64) -> Option<usize> {
        let n = usize::try_from(n).ok()?;
        let end_of_nth = if n == 0 { 0 } else { self.events.get(n - 1)?.0 };
        let end_of_next = self.events.get(n).map_or(self.bytes.len(), |(end, _)| *end);
        Some(end_of_nth + (end_of_next - end_of_nth) / 2)
    }

    /// The pieces to send from `start` to `end`, with the wait before each.
    fn pieces(&self, start: usize, end: usize, args: &ReplayArgs) -> Vec<(Duration, Bytes)> {
        let speed = |at: Duration| {
            if args.speed <= 0.0 {
                Duration::ZERO
            } else {
                at.div_f64(args.speed)
            }
        };
        let mut pieces = Vec::new();
        let mut offset = 0;
        let mut last_at = None;
        for (at, chunk) in &self.recording.chunks {
            let (from, to) = (offset, offset + chunk.len());
            offset = to;
            let (from, to) = (from.max(start), to.min(end));
            if from >= to {
                continue;
            }
            // The first piece goes at once; the rest keep their recorded spacing.
            let wait = last_at.map_or(Duration::ZERO, |last: Duration| {
                speed(at.saturating_sub(last))
            });
            last_at = Some(*at);
            pieces.push((wait, self.bytes.slice(from..to)));
        }
        let mut rng = args.random_chunks.map(|seed| seed | 1);
        match (args.chunk, &mut rng) {
            (Some(size), _) => rechunk(pieces, |_| size.max(1)),
            (None, Some(state)) => rechunk(pieces, |_| {
                // xorshift64: a small, seedable, good-enough source of split points.
                *state ^= *state << 13;
                *state ^= *state >> 7;
                *state ^= *state << 17;
                1 + (*state % 64) as usize
            }),
            (None, None) => pieces,
        }
    }
}

/// Splits the pieces again, into sizes `size` picks; each piece's wait goes to its first part.
fn rechunk(
    pieces: Vec<(Duration, Bytes)>,
    mut size: impl FnMut(usize) -> usize,
) -> Vec<(Duration, Bytes)> {
    let mut out = Vec::new();
    for (wait, mut bytes) in pieces {
        let mut wait = wait;
        while !bytes.is_empty() {
            let n = size(out.len()).min(bytes.len());
            out.push((wait, bytes.split_to(n)));
            wait = Duration::ZERO;
        }
    }
    out
}

/// Runs `sse replay`; the exit code.
pub fn run(args: ReplayArgs) -> i32 {
    let bytes = match std::fs::read(&args.file) {
        Ok(bytes) => bytes,
        Err(error) => {
            eprintln!("sse replay: {}: {error}", args.file.display());
            return 2;
        }
    };
    let recording = match recording::read(&bytes) {
        Ok(recording) => recording,
        Err(error) => {
            eprintln!("sse replay: {}: {error}", args.file.display());
            return 2;
        }
    };
    let script = Arc::new(Script::new(recording));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let args = Arc::new(args);
    let result = runtime.block_on(async {
        let addr = args.listen.addr();
        let serving = listen::serve("sse replay", addr, move |request: http::Request<_>| {
            let (script, args) = (script.clone(), args.clone());
            async move { respond(&script, &args, &request) }
        });
        tokio::select! {
            result = serving => result.map_err(|e| e.to_string()),
            _ = tokio::signal::ctrl_c() => Ok(()),
        }
    });
    match result {
        Ok(()) => 0,
        Err(message) => {
            eprintln!("sse replay: {message}");
            1
        }
    }
}

type ReplayBody =
    StreamBody<futures_util::stream::BoxStream<'static, Result<BodyFrame<Bytes>, Infallible>>>;

fn respond<B>(
    script: &Script,
    args: &ReplayArgs,
    request: &http::Request<B>,
) -> http::Response<ReplayBody> {
    let last = sse_proto_io::server::last_event_id(request.headers());
    let start = script.resume_at(last);
    let end = match (last, args.cut_after) {
        (None, Some(n)) => script.cut_at(n).unwrap_or(script.bytes.len()),
        _ => script.bytes.len(),
    };
    let pieces = script.pieces(start, end, args);
    let stream = futures_util::stream::unfold(pieces.into_iter(), |mut pieces| async move {
        let (wait, bytes) = pieces.next()?;
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        Some((Ok(BodyFrame::data(bytes)), pieces))
    });
    let body = StreamBody::new(futures_util::StreamExt::boxed(stream));
    http::Response::builder()
        .header("content-type", &script.content_type)
        .header("cache-control", "no-store")
        .body(body)
        .expect("static headers are valid")
}
