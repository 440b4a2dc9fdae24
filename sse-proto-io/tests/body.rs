//! The response body and the watchdog on tokio's paused clock: what comes out when, with no
//! network and no real waiting. A poll of the body stands for the server taking the
//! previous frame; not polling stands for a client that stopped reading.
#![cfg(feature = "server")]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream::{self, Stream, StreamExt};
use futures_util::FutureExt;
use http_body_util::BodyExt;
use sse_proto::{Event, Frame, KeepAliveConfig, KeepAlivePing};
use sse_proto_io::server::{BodyError, Sse, SseItem, Watchdog};
use tokio::time::Instant;

const SECOND: Duration = Duration::from_secs(1);

/// The next data frame, and how long after `start` it came.
async fn next<S>(body: &mut Sse<S>, start: Instant) -> Option<(Duration, Result<Bytes, BodyError>)>
where
    S: Stream + Send,
    S::Item: SseItem,
{
    let frame = body.frame().await?;
    let data = frame.map(|f| f.into_data().expect("only data frames"));
    Some((start.elapsed(), data))
}

async fn next_ok<S>(body: &mut Sse<S>, start: Instant) -> (u64, Bytes)
where
    S: Stream + Send,
    S::Item: SseItem,
{
    let (at, data) = next(body, start).await.expect("a frame");
    (at.as_secs(), data.expect("no error"))
}

/// Takes a frame per entry of `want`: (seconds after `start`, bytes).
async fn expect<S>(body: &mut Sse<S>, start: Instant, want: &[(u64, &str)])
where
    S: Stream + Send,
    S::Item: SseItem,
{
    for &(at, bytes) in want {
        assert_eq!(
            next_ok(body, start).await,
            (at, Bytes::from(bytes.to_owned()))
        );
    }
}

fn never() -> impl Stream<Item = Frame> + Send {
    stream::pending()
}

#[tokio::test(start_paused = true)]
async fn first_bytes_at_once_then_a_ping_after_each_idle_interval() {
    let start = Instant::now();
    let mut body = Sse::new(never()).retry(Duration::from_secs(3));
    expect(
        &mut body,
        start,
        &[(0, ": ok\n\n"), (15, ": ping\n\n"), (30, ": ping\n\n")],
    )
    .await;
}

/// httpx-sse and sseclient deliver an empty event for a block with `retry:` and no data: the
/// reconnection time goes into the first event's block, past pings and comments before it.
#[tokio::test(start_paused = true)]
async fn the_retry_rides_in_the_first_events_block() {
    use sse_proto::{Event, Message};
    let items = stream::iter([
        Message::comment("hello"),
        Message::event(Event::new("first")),
        Message::event(Event::new("second")),
    ]);
    let body = Sse::new(items).retry(Duration::from_millis(1500));
    let sent = http_body_util::BodyExt::collect(body)
        .await
        .unwrap()
        .to_bytes();
    assert_eq!(
        &sent[..],
        b": ok\n\n: hello\n\nretry: 1500\ndata: first\n\ndata: second\n\n"
    );
    // Parsed back: the retry applies before the first event, and no block is empty.
    let mut parser = sse_proto::Parser::new();
    let steps: Vec<_> = parser.feed(&sent).collect::<Result<_, _>>().unwrap();
    assert_eq!(steps.len(), 3);
    assert_eq!(
        steps[0],
        sse_proto::Step::Retry(Duration::from_millis(1500))
    );
}

#[tokio::test(start_paused = true)]
async fn an_event_pushes_the_next_ping_back() {
    let start = Instant::now();
    let events = stream::once(async {
        tokio::time::sleep(10 * SECOND).await;
        Event::new("a")
    })
    .chain(stream::pending());
    let mut body = Sse::new(events);
    next_ok(&mut body, start).await;
    expect(&mut body, start, &[(10, "data: a\n\n"), (25, ": ping\n\n")]).await;
}

#[tokio::test(start_paused = true)]
async fn a_named_ping_event_and_a_zero_interval() {
    let start = Instant::now();
    let mut config = KeepAliveConfig::default();
    config.interval = Duration::ZERO; // taken as 1 ms, not a panic
    config.ping = KeepAlivePing::event("heartbeat").unwrap();
    let mut body = Sse::new(never()).keep_alive(config);
    next_ok(&mut body, start).await;
    let (at, ping) = next(&mut body, start).await.unwrap();
    assert_eq!(ping.unwrap(), Bytes::from("event: heartbeat\ndata: \n\n"));
    assert_eq!(at, Duration::from_millis(1));
}

#[tokio::test(start_paused = true)]
async fn a_late_poll_is_progress_and_a_poll_after_the_verdict_fails() {
    let start = Instant::now();
    let watchdog = Watchdog::new(30 * SECOND);
    let mut body = Sse::new(never()).watchdog(&watchdog);
    next_ok(&mut body, start).await; // ": ok\n\n" handed out, not taken for 31 s
    tokio::time::sleep(31 * SECOND).await;
    // Nobody asked the watchdog: the poll says the server took it, late. Not a stall.
    expect(&mut body, start, &[(31, ": ping\n\n")]).await;
    // Now the watchdog decides, 30 s after that ping was handed out...
    let stalled = watchdog.stalled().await;
    assert_eq!((start.elapsed(), stalled.pending), (61 * SECOND, 8));
    // ...and a connection polled after the verdict all the same ends with the error.
    match next(&mut body, start).await {
        Some((_, Err(BodyError::SendTimeout { timeout, pending }))) => {
            assert_eq!((timeout, pending), (30 * SECOND, 8));
        }
        other => panic!("{other:?}"),
    }
    assert!(body.frame().await.is_none(), "the body has ended");
}

#[tokio::test(start_paused = true)]
async fn a_body_polled_in_time_never_stalls() {
    let start = Instant::now();
    let watchdog = Watchdog::new(20 * SECOND);
    let mut body = Sse::new(never()).watchdog(&watchdog);
    let reading = async {
        for _ in 0..10 {
            // Pings every 15 s, each taken at once: always under the 20 s timeout.
            next_ok(&mut body, start).await;
        }
    };
    tokio::select! {
        _ = reading => {}
        stalled = watchdog.stalled() => panic!("judged stalled: {stalled:?}"),
    }
    assert!(start.elapsed() >= 135 * SECOND);
}

#[tokio::test(start_paused = true)]
async fn the_watchdog_resolves_at_the_send_timeout_of_a_body_not_polled() {
    let start = Instant::now();
    let watchdog = Watchdog::new(30 * SECOND);
    let mut body = Sse::new(never()).watchdog(&watchdog);
    next_ok(&mut body, start).await; // the server took nothing after this
    assert_eq!(watchdog.bodies(), 1);
    let stalled = tokio::time::timeout(60 * SECOND, watchdog.stalled())
        .await
        .expect("a verdict");
    assert_eq!(start.elapsed(), 30 * SECOND);
    assert_eq!(stalled.pending, 6);
    drop(body);
    assert_eq!(watchdog.bodies(), 0, "a dropped body is forgotten");
}

#[tokio::test(start_paused = true)]
async fn watchdogs_for_connections_share_one_stall_count() {
    let start = Instant::now();
    let watchdogs = Watchdog::new(30 * SECOND);
    let (stalling, reading) = (watchdogs.for_connection(), watchdogs.for_connection());
    let mut stuck = Sse::new(never()).watchdog(&stalling);
    next_ok(&mut stuck, start).await; // then nothing taken
    let events = stream::unfold(0, |n| async move {
        tokio::time::sleep(SECOND).await;
        Some((Event::new(n.to_string()), n + 1))
    });
    let mut read = Sse::new(events).watchdog(&reading);
    let read_on = async {
        loop {
            next_ok(&mut read, start).await;
        }
    };
    tokio::select! {
        _ = read_on => unreachable!("the stream never ends"),
        stalled = reading.stalled() => panic!("a reading client was judged stalled: {stalled:?}"),
        _ = stalling.stalled() => {}
    }
    assert_eq!(start.elapsed(), 30 * SECOND);
    // Waiting again on the stalled connection gets the verdict again, not another count.
    stalling.stalled().await;
    assert_eq!(
        (watchdogs.stalls(), stalling.stalls(), reading.stalls()),
        (1, 1, 1)
    );
    // A fresh `Watchdog::new` counts on its own.
    assert_eq!(Watchdog::new(30 * SECOND).stalls(), 0);
}

#[tokio::test(start_paused = true)]
async fn the_watchdog_stays_quiet_while_the_body_is_polled() {
    let start = Instant::now();
    let watchdog = Watchdog::new(5 * SECOND);
    let events = stream::unfold(0, |n| async move {
        tokio::time::sleep(SECOND).await;
        Some((Event::new(n.to_string()), n + 1))
    });
    let mut body = Sse::new(events).watchdog(&watchdog);
    let reading = async {
        while start.elapsed() < 100 * SECOND {
            next_ok(&mut body, start).await;
        }
    };
    tokio::select! {
        _ = reading => {}
        stalled = watchdog.stalled() => panic!("a reading client was judged stalled: {stalled:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn shutdown_drops_the_producer_writes_a_short_retry_and_ends() {
    struct Guard(Arc<AtomicBool>);
    impl Drop for Guard {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }
    let dropped = Arc::new(AtomicBool::new(false));
    let guard = Guard(dropped.clone());
    let events = never().map(move |frame| {
        let _guard = &guard;
        frame
    });
    let start = Instant::now();
    let mut body = Sse::new(events)
        .shutdown(tokio::time::sleep(5 * SECOND))
        .shutdown_retry(Duration::from_millis(250));
    next_ok(&mut body, start).await;
    expect(&mut body, start, &[(5, "retry: 250\n\n")]).await;
    assert!(
        dropped.load(Ordering::SeqCst),
        "the producer is dropped at shutdown"
    );
    assert!(body.frame().await.is_none());
    assert!(http_body::Body::is_end_stream(&body));
}

#[tokio::test(start_paused = true)]
async fn a_producer_error_fails_the_body() {
    let start = Instant::now();
    let items = stream::iter([Ok(Event::new("a")), Err(std::io::Error::other("db gone"))]);
    let mut body = Sse::new(items);
    next_ok(&mut body, start).await;
    assert_eq!(
        next_ok(&mut body, start).await.1,
        Bytes::from("data: a\n\n")
    );
    match next(&mut body, start).await {
        Some((_, Err(BodyError::Producer(error)))) => assert_eq!(error.to_string(), "db gone"),
        other => panic!("{other:?}"),
    }
    assert!(body.frame().now_or_never().flatten().is_none());
}

#[tokio::test(start_paused = true)]
async fn the_stream_ending_ends_the_body() {
    let start = Instant::now();
    let mut body = Sse::new(stream::iter([Event::new("only")]));
    next_ok(&mut body, start).await;
    next_ok(&mut body, start).await;
    assert!(body.frame().await.is_none());
}

#[tokio::test(start_paused = true)]
async fn pings_built_by_a_factory() {
    let start = Instant::now();
    let mut n = 0;
    let mut body = Sse::new(never()).ping_with(move || {
        n += 1;
        let ping = Event::builder().event("ping").data(n.to_string()).build();
        Frame::from_event(&ping.unwrap())
    });
    let pings = [
        (0, ": ok\n\n"),
        (15, "event: ping\ndata: 1\n\n"),
        (30, "event: ping\ndata: 2\n\n"),
    ];
    expect(&mut body, start, &pings).await;
}
