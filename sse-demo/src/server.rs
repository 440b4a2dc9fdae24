//! The demo server: axum routes on hyper-util connections, every byte of every stream made by
//! `sse-proto`.
//!
//! | route | what |
//! | --- | --- |
//! | `GET /` | a page whose EventSources show the server time and the weather live |
//! | `GET /events/time` | the server time every second, one generator per client (aiohttp-sse's quickstart) |
//! | `GET /events/weather` | one producer broadcast to every client as encode-once frames, resumable with `Last-Event-ID` (the aiohttp SSE tutorial's weather) |
//! | `GET /events/script` | a fixed sequence, cut mid-event on a first connection, resumed after `Last-Event-ID` (the tests' script, [`crate::script`]) |
//! | `GET /script` | a page that records what its EventSource got from `/events/script` and posts it back |
//! | `POST /report` | where the pages post what they saw (`/script`, and `/?check`) |
//! | `GET /stats` | open streams, broadcast position, stalled and lagging clients dropped (JSON) |
//!
//! Every stream starts with a comment (headers and first bytes go out at once, so a browser's
//! loading spinner stops) and the reconnection time, sends a keep-alive ping after an idle
//! interval, ends cleanly at shutdown, and is dropped when its client stalls. The header,
//! keep-alive, stall and resume rules are `sse-proto`'s sans-IO helpers
//! ([`sse_proto::response_headers`], [`KeepAlive`], [`StallDetector`], [`ResumeBuffer`]);
//! this file moves the bytes and reads the clock.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Request, Response, StatusCode, Version};
use axum::response::{Html, IntoResponse};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use bytes::Bytes;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::graceful::GracefulShutdown;
use sse_proto::{
    parse_last_event_id, response_headers, Event, Frame, HttpVersion, KeepAlive, KeepAliveConfig,
    Message, Replay, ResumeBuffer, ResumeLimits, StallDetector,
};
use tokio::net::TcpListener;
use tokio::sync::{broadcast, watch, Notify};
use tokio::task::JoinHandle;

use crate::script;

/// What the server does, and how often.
#[derive(Clone, Debug)]
pub struct Config {
    /// Period of `/events/time`.
    pub tick: Duration,
    /// Period of the weather broadcast.
    pub weather_every: Duration,
    /// Idle time before a keep-alive ping (15 s, like sse-starlette and axum).
    pub keep_alive: Duration,
    /// How long a client may leave broadcast bytes unread before it is dropped
    /// (sse-starlette's `send_timeout`).
    pub send_timeout: Duration,
    /// The reconnection time sent at the start of `/events/time` and `/events/weather`.
    pub retry: Duration,
    /// Bounds of the weather resume buffer.
    pub resume: ResumeLimits,
    /// Frames a broadcast subscriber may fall behind before it is dropped (it then resumes
    /// from the resume buffer with `Last-Event-ID`).
    pub channel_capacity: usize,
    /// The kernel send buffer of each connection (`SO_SNDBUF`); `None` leaves the kernel's
    /// autotuning on. Together with `write_buffer` it bounds what a stalled client can pin
    /// and how soon it is noticed.
    pub send_buffer: Option<usize>,
    /// Most bytes hyper buffers per HTTP/1.1 connection before it stops pulling from the
    /// stream (hyper's `max_buf_size`, at least 8 KiB).
    pub write_buffer: usize,
    /// How long shutdown waits for connections to close after every stream has ended.
    pub shutdown_grace: Duration,
    /// Print connections, stalls and shutdown to stderr.
    pub log: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            tick: Duration::from_secs(1),
            weather_every: Duration::from_secs(2),
            keep_alive: Duration::from_secs(15),
            send_timeout: Duration::from_secs(30),
            retry: Duration::from_secs(3),
            resume: ResumeLimits::default(),
            channel_capacity: 256,
            send_buffer: None,
            write_buffer: 64 * 1024,
            shutdown_grace: Duration::from_secs(5),
            log: false,
        }
    }
}

/// Counters, readable while the server runs (and served as `/stats`).
#[derive(Debug, Default)]
pub struct Stats {
    /// Event streams open now.
    pub streams: AtomicUsize,
    /// Event streams opened so far.
    pub streams_opened: AtomicU64,
    /// Streams dropped because their client stalled.
    pub stalled: AtomicU64,
    /// Broadcast streams ended because their client fell too far behind.
    pub lagged: AtomicU64,
    /// Streams whose client went away.
    pub disconnected: AtomicU64,
}

/// A connection to `/events/script`, as the server saw it.
#[derive(Clone, Debug)]
pub struct ScriptConnection {
    /// The `Last-Event-ID` it carried.
    pub last_event_id: Option<String>,
    /// When it arrived.
    pub at: Instant,
}

/// What `/events/script` and `/report` saw, for the tests.
#[derive(Debug, Default)]
pub struct ScriptLog {
    connections: Mutex<Vec<ScriptConnection>>,
    cut_at: Mutex<Option<Instant>>,
    reports: Mutex<Vec<serde_json::Value>>,
    reported: Notify,
}

impl ScriptLog {
    /// Every connection so far.
    pub fn connections(&self) -> Vec<ScriptConnection> {
        self.connections.lock().unwrap().clone()
    }

    /// When the server last dropped a script connection mid-event.
    pub fn cut_at(&self) -> Option<Instant> {
        *self.cut_at.lock().unwrap()
    }

    /// Waits for the next report a page posts to `/report`.
    pub async fn next_report(&self) -> serde_json::Value {
        loop {
            let notified = self.reported.notified();
            if let Some(report) = self.reports.lock().unwrap().pop() {
                return report;
            }
            notified.await;
        }
    }
}

/// The broadcast hub: one producer, encode-once frames, a resume buffer.
struct Hub {
    inner: Mutex<HubInner>,
    /// Bytes broadcast so far (what every subscriber has to accept).
    published_bytes: AtomicU64,
}

struct HubInner {
    tx: broadcast::Sender<Frame>,
    resume: ResumeBuffer,
    /// The newest frame: the current state, for clients the buffer cannot resume.
    newest: Option<Frame>,
    last_id: u64,
}

impl Hub {
    fn publish(&self, make: impl FnOnce(u64) -> Event) -> u64 {
        let mut inner = self.inner.lock().unwrap();
        let id = inner.last_id + 1;
        let frame = Frame::from_event(&make(id));
        inner.last_id = id;
        inner.resume.push(frame.clone());
        inner.newest = Some(frame.clone());
        self.published_bytes
            .fetch_add(frame.len() as u64, Ordering::Relaxed);
        let _ = inner.tx.send(frame); // no subscriber: nothing to do
        id
    }

    /// Subscribes and computes the replay under one lock: nothing missed, nothing twice.
    fn subscribe(
        &self,
        last_event_id: Option<&str>,
    ) -> (broadcast::Receiver<Frame>, Vec<Frame>, u64) {
        let inner = self.inner.lock().unwrap();
        let rx = inner.tx.subscribe();
        let base = self.published_bytes.load(Ordering::Relaxed);
        let replay = match last_event_id.map(|id| inner.resume.replay_after(id)) {
            Some(Replay::Frames(frames)) => frames.cloned().collect(),
            Some(Replay::UpToDate) => Vec::new(),
            // A new client, or an id too old to resume from: the current state.
            _ => inner.newest.iter().cloned().collect(),
        };
        (rx, replay, base)
    }
}

/// The server's shared state.
pub struct App {
    config: Config,
    hub: Hub,
    shutdown: watch::Receiver<bool>,
    /// Counters.
    pub stats: Stats,
    /// What the script endpoints saw.
    pub script: ScriptLog,
}

impl App {
    /// The id of the newest weather event.
    pub fn weather_last_id(&self) -> u64 {
        self.hub.inner.lock().unwrap().last_id
    }
}

/// Per-connection control: the stall watchdog drops the connection through it.
#[derive(Debug, Default)]
pub struct ConnCtl {
    kill: Notify,
}

/// A running server.
pub struct Running {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its state.
    pub app: Arc<App>,
    shutdown: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Running {
    /// The page's URL.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// Ends every stream and stops accepting; returns once connections have closed or the
    /// grace period is over.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
    }
}

/// Binds `addr` and serves until [`Running::shutdown`].
pub async fn start(addr: SocketAddr, config: Config) -> io::Result<Running> {
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let (tx, _) = broadcast::channel(config.channel_capacity);
    let app = Arc::new(App {
        hub: Hub {
            inner: Mutex::new(HubInner {
                tx,
                resume: ResumeBuffer::new(config.resume),
                newest: None,
                last_id: 0,
            }),
            published_bytes: AtomicU64::new(0),
        },
        shutdown: shutdown_rx.clone(),
        stats: Stats::default(),
        script: ScriptLog::default(),
        config,
    });
    let producer = tokio::spawn(weather_producer(app.clone()));
    let router = router(app.clone());
    let config = app.config.clone();
    let task = tokio::spawn(async move {
        accept_loop(listener, router, shutdown_rx, config).await;
        let _ = producer.await;
    });
    Ok(Running {
        addr,
        app,
        shutdown: shutdown_tx,
        task,
    })
}

/// The routes.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(|| async { Html(include_str!("page/index.html")) }))
        .route(
            "/script",
            get(|| async { Html(include_str!("page/script.html")) }),
        )
        .route("/events/time", get(time_stream))
        .route("/events/weather", get(weather_stream))
        .route("/events/script", get(script_stream))
        .route("/report", post(page_report))
        .route("/stats", get(stats))
        .with_state(app)
}

async fn accept_loop(
    listener: TcpListener,
    router: Router,
    mut shutdown: watch::Receiver<bool>,
    config: Config,
) {
    let log = config.log;
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    builder.http1().max_buf_size(config.write_buffer.max(8192));
    let graceful = GracefulShutdown::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, _peer) = match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        // Out of file descriptors, most likely: back off instead of spinning.
                        if log {
                            eprintln!("accept failed: {error}");
                        }
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                if let Some(size) = config.send_buffer {
                    let _ = socket2::SockRef::from(&stream).set_send_buffer_size(size);
                }
                let ctl = Arc::new(ConnCtl::default());
                let per_request = ctl.clone();
                let router = router.clone();
                let service = hyper::service::service_fn(move |mut request: Request<hyper::body::Incoming>| {
                    request.extensions_mut().insert(per_request.clone());
                    let mut router = router.clone();
                    async move {
                        let response: Result<_, Infallible> =
                            tower_service::Service::call(&mut router, request).await;
                        response
                    }
                });
                let connection = builder.serve_connection(TokioIo::new(stream), service).into_owned();
                let connection = graceful.watch(connection);
                tokio::spawn(async move {
                    tokio::select! {
                        _ = connection => {}
                        _ = ctl.kill.notified() => {} // dropped: the socket closes now
                    }
                });
            }
            _ = stopped(&mut shutdown) => break,
        }
    }
    drop(listener);
    if log {
        eprintln!(
            "shutting down: waiting for {} connection(s)",
            graceful.count()
        );
    }
    if tokio::time::timeout(config.shutdown_grace, graceful.shutdown())
        .await
        .is_err()
        && log
    {
        eprintln!("shutdown grace period over: closing the rest");
    }
}

async fn weather_producer(app: Arc<App>) {
    let mut shutdown = app.shutdown.clone();
    let mut every = tokio::time::interval(app.config.weather_every);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut weather = Weather::default();
    loop {
        tokio::select! {
            _ = every.tick() => {
                let data = weather.next();
                app.hub.publish(|id| {
                    Event::builder()
                        .event("weather")
                        .id(id.to_string())
                        .data(data)
                        .build()
                        .expect("valid event")
                });
            }
            _ = stopped(&mut shutdown) => return,
        }
    }
}

/// Made-up weather: a few cities, a random walk (no RNG crate: an xorshift).
struct Weather {
    state: u64,
    n: u64,
    temps: [f64; 5],
}

impl Default for Weather {
    fn default() -> Self {
        Weather {
            state: 0x9E37_79B9_7F4A_7C15,
            n: 0,
            temps: [11.0, 19.5, 2.0, 24.0, 17.5],
        }
    }
}

impl Weather {
    fn next(&mut self) -> String {
        const CITIES: [&str; 5] = ["Amsterdam", "Lisbon", "Oslo", "Nairobi", "Lima"];
        const SKIES: [&str; 4] = ["sunny", "cloudy", "rain", "wind"];
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        let city = (self.n % 5) as usize;
        self.n += 1;
        let step = ((self.state % 11) as f64 - 5.0) / 10.0;
        self.temps[city] += step;
        format!(
            r#"{{"city":"{}","temp_c":{:.1},"sky":"{}","n":{}}}"#,
            CITIES[city],
            self.temps[city],
            SKIES[(self.state >> 8) as usize % 4],
            self.n
        )
    }
}

/// A `406 Not Acceptable` for a request whose `Accept` header excludes event streams (the
/// method router already answers `405` to anything but GET and HEAD).
fn refuse_accept(headers: &HeaderMap) -> Option<Response<Body>> {
    let accept = headers.get(header::ACCEPT).map(|v| v.as_bytes());
    if accepts_event_stream(accept) {
        return None;
    }
    let refusal = (
        StatusCode::NOT_ACCEPTABLE,
        "this endpoint only serves text/event-stream\n",
    );
    Some(refusal.into_response())
}

/// Whether an `Accept` header allows an event stream (no header allows anything).
fn accepts_event_stream(accept: Option<&[u8]>) -> bool {
    let Some(accept) = accept else { return true };
    accept.split(|&b| b == b',').any(|range| {
        let essence = range
            .split(|&b| b == b';')
            .next()
            .unwrap_or(b"")
            .trim_ascii();
        [&b"text/event-stream"[..], b"text/*", b"*/*"]
            .iter()
            .any(|allowed| essence.eq_ignore_ascii_case(allowed))
    })
}

/// The request's `Last-Event-ID`, when it is one an event stream could have set (a value
/// with CR, LF or NUL, or not UTF-8, counts as none).
fn last_event_id(headers: &HeaderMap) -> Option<String> {
    let value = headers.get("last-event-id")?;
    parse_last_event_id(value.as_bytes())
        .ok()
        .flatten()
        .map(str::to_owned)
}

fn sse_response(version: Version, body: Body) -> Response<Body> {
    let version = match version {
        Version::HTTP_09 | Version::HTTP_10 => HttpVersion::Http10,
        Version::HTTP_2 => HttpVersion::Http2,
        Version::HTTP_3 => HttpVersion::Http3,
        _ => HttpVersion::Http11,
    };
    let mut response = Response::new(body);
    for &(name, value) in response_headers(version) {
        response
            .headers_mut()
            .insert(name, HeaderValue::from_static(value));
    }
    response
}

/// Bytes the first few writes of every stream carry: an initial comment and the
/// reconnection time.
fn opening(retry: Option<Duration>) -> VecDeque<Bytes> {
    let mut first = VecDeque::new();
    first.push_back(Frame::from_message(&Message::comment("connected")).into_bytes());
    if let Some(retry) = retry {
        first.push_back(Frame::from_message(&Message::retry(retry)).into_bytes());
    }
    first
}

async fn time_stream(
    State(app): State<Arc<App>>,
    version: Version,
    headers: HeaderMap,
) -> Response<Body> {
    if let Some(refused) = refuse_accept(&headers) {
        return refused;
    }
    let mut tick = tokio::time::interval(app.config.tick);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let out = Outgoing::new(
        &app,
        opening(Some(app.config.retry)),
        Source::Time(tick),
        None,
    );
    sse_response(version, out.into_body())
}

async fn weather_stream(
    State(app): State<Arc<App>>,
    ctl: Option<Extension<Arc<ConnCtl>>>,
    version: Version,
    headers: HeaderMap,
) -> Response<Body> {
    if let Some(refused) = refuse_accept(&headers) {
        return refused;
    }
    let last = last_event_id(&headers);
    let (rx, replay, base) = app.hub.subscribe(last.as_deref());
    let mut first = opening(Some(app.config.retry));
    first.extend(replay.into_iter().map(Frame::into_bytes));
    let progress = Arc::new(Progress::default());
    if let Some(Extension(ctl)) = ctl {
        tokio::spawn(stall_watchdog(app.clone(), ctl, progress.clone(), base));
    }
    let out = Outgoing::new(&app, first, Source::Broadcast(rx), Some(progress));
    sse_response(version, out.into_body())
}

async fn script_stream(
    State(app): State<Arc<App>>,
    version: Version,
    headers: HeaderMap,
) -> Response<Body> {
    if let Some(refused) = refuse_accept(&headers) {
        return refused;
    }
    let last = last_event_id(&headers);
    app.script
        .connections
        .lock()
        .unwrap()
        .push(ScriptConnection {
            last_event_id: last.clone(),
            at: Instant::now(),
        });
    let items = script::items();
    let (start, end, cut) = match last.as_deref().and_then(script::resume_index) {
        Some(start) => (start, items.len(), false),
        None => (0, script::cut_index(), true),
    };
    let rest = items[start..end]
        .iter()
        .map(|item| Frame::from_message(item).into_bytes())
        .collect();
    let out = Outgoing::new(
        &app,
        opening(None),
        Source::Script {
            rest,
            cut: if cut { Cut::Pending } else { Cut::Done },
            app: app.clone(),
        },
        None,
    );
    sse_response(version, out.into_body())
}

async fn page_report(
    State(app): State<Arc<App>>,
    Json(report): Json<serde_json::Value>,
) -> StatusCode {
    app.script.reports.lock().unwrap().push(report);
    app.script.reported.notify_waiters();
    StatusCode::NO_CONTENT
}

async fn stats(State(app): State<Arc<App>>) -> Json<serde_json::Value> {
    let s = &app.stats;
    Json(serde_json::json!({
        "streams": s.streams.load(Ordering::Relaxed),
        "streams_opened": s.streams_opened.load(Ordering::Relaxed),
        "stalled": s.stalled.load(Ordering::Relaxed),
        "lagged": s.lagged.load(Ordering::Relaxed),
        "disconnected": s.disconnected.load(Ordering::Relaxed),
        "weather_last_id": app.weather_last_id(),
    }))
}

/// How far one broadcast stream got, shared with its stall watchdog.
#[derive(Debug, Default)]
struct Progress {
    /// Broadcast bytes the connection has taken from the stream.
    accepted: AtomicU64,
    closed: AtomicBool,
}

/// Drops the connection of a client that leaves broadcast bytes unread for the send
/// timeout (a dead peer behind a half-open connection, or one that stopped reading).
async fn stall_watchdog(app: Arc<App>, ctl: Arc<ConnCtl>, progress: Arc<Progress>, base: u64) {
    let timeout = app.config.send_timeout;
    let mut detector = StallDetector::new(timeout);
    let (mut queued, mut accepted) = (0, 0);
    // The broadcast queues bytes for every subscriber at once, so the watchdog samples the
    // totals a few times per timeout and reports what changed: a verdict comes at most a
    // quarter of the timeout late.
    let mut check = tokio::time::interval((timeout / 4).max(Duration::from_millis(50)));
    loop {
        check.tick().await;
        if progress.closed.load(Ordering::Relaxed) {
            return;
        }
        let now = Instant::now();
        let queued_now = app.hub.published_bytes.load(Ordering::Relaxed) - base;
        let accepted_now = progress.accepted.load(Ordering::Relaxed);
        detector.handle_queued(now, (queued_now - queued) as usize);
        detector.handle_accepted(now, (accepted_now - accepted) as usize);
        (queued, accepted) = (queued_now, accepted_now);
        detector.handle_timeout(now);
        if detector.poll_stalled().is_some() {
            app.stats.stalled.fetch_add(1, Ordering::Relaxed);
            if app.config.log {
                eprintln!("dropping a stalled client: no progress for {timeout:?}");
            }
            ctl.kill.notify_one();
            return;
        }
    }
}

enum Source {
    Time(tokio::time::Interval),
    Broadcast(broadcast::Receiver<Frame>),
    Script {
        rest: VecDeque<Bytes>,
        cut: Cut,
        app: Arc<App>,
    },
}

/// Where a script stream is with its cut.
enum Cut {
    /// Half an event, then the cut, once `rest` is sent.
    Pending,
    /// The half event is out: the cut comes next.
    Sent,
    /// No cut (or done): keep-alives until shutdown.
    Done,
}

/// One client's outgoing stream.
struct Outgoing {
    first: VecDeque<Bytes>,
    source: Source,
    keep_alive: KeepAlive,
    shutdown: watch::Receiver<bool>,
    progress: Option<Arc<Progress>>,
    ended: bool,
    _open: OpenStream,
}

/// Counts a stream while it is open; tells its watchdog when it is gone.
struct OpenStream {
    app: Arc<App>,
    progress: Option<Arc<Progress>>,
    finished: bool,
}

impl Drop for OpenStream {
    fn drop(&mut self) {
        let stats = &self.app.stats;
        stats.streams.fetch_sub(1, Ordering::Relaxed);
        if !self.finished {
            stats.disconnected.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(progress) = &self.progress {
            progress.closed.store(true, Ordering::Relaxed);
        }
    }
}

impl Outgoing {
    fn new(
        app: &Arc<App>,
        first: VecDeque<Bytes>,
        source: Source,
        progress: Option<Arc<Progress>>,
    ) -> Self {
        app.stats.streams.fetch_add(1, Ordering::Relaxed);
        app.stats.streams_opened.fetch_add(1, Ordering::Relaxed);
        let mut keep_alive = KeepAliveConfig::default();
        keep_alive.interval = app.config.keep_alive;
        Outgoing {
            first,
            source,
            keep_alive: KeepAlive::new(keep_alive, Instant::now()),
            shutdown: app.shutdown.clone(),
            progress: progress.clone(),
            ended: false,
            _open: OpenStream {
                app: app.clone(),
                progress,
                finished: false,
            },
        }
    }

    fn into_body(self) -> Body {
        let stream = futures_util::stream::unfold(self, |mut out| async move {
            let chunk = out.next_chunk().await?;
            Some((chunk, out))
        });
        Body::from_stream(stream)
    }

    /// The next bytes to write; `None` ends the response cleanly, `Err` aborts the
    /// connection.
    async fn next_chunk(&mut self) -> Option<io::Result<Bytes>> {
        if self.ended {
            self._open.finished = true;
            return None;
        }
        if let Some(bytes) = self.first.pop_front() {
            self.keep_alive.handle_write(Instant::now());
            return Some(Ok(bytes));
        }
        loop {
            let deadline = tokio::time::Instant::from_std(self.keep_alive.poll_timeout());
            tokio::select! {
                biased;
                _ = stopped(&mut self.shutdown) => {
                    // Graceful shutdown: say so, then end the response.
                    self.ended = true;
                    return Some(Ok(Frame::from_message(&Message::comment("server shutting down")).into_bytes()));
                }
                next = next_from(&mut self.source) => match next {
                    Next::Bytes(bytes, broadcast) => {
                        self.keep_alive.handle_write(Instant::now());
                        if broadcast {
                            if let Some(progress) = &self.progress {
                                progress.accepted.fetch_add(bytes.len() as u64, Ordering::Relaxed);
                            }
                        }
                        return Some(Ok(bytes));
                    }
                    Next::End => {
                        self._open.finished = true;
                        return None;
                    }
                    Next::Abort => {
                        return Some(Err(io::Error::new(io::ErrorKind::ConnectionAborted, "cut on purpose")));
                    }
                },
                _ = tokio::time::sleep_until(deadline) => {
                    let now = Instant::now();
                    self.keep_alive.handle_timeout(now);
                    if let Some(ping) = self.keep_alive.poll_ping() {
                        self.keep_alive.handle_write(now);
                        return Some(Ok(ping.into_bytes()));
                    }
                }
            }
        }
    }
}

enum Next {
    /// Bytes to write; `true` when they come from the broadcast.
    Bytes(Bytes, bool),
    End,
    Abort,
}

async fn next_from(source: &mut Source) -> Next {
    match source {
        Source::Time(tick) => {
            tick.tick().await;
            let event = Event::new(format!("Server Time : {}", utc_now()));
            Next::Bytes(Frame::from_event(&event).into_bytes(), false)
        }
        Source::Broadcast(rx) => match rx.recv().await {
            Ok(frame) => Next::Bytes(frame.into_bytes(), true),
            // Too far behind: end the response; the client resumes from the resume buffer.
            Err(broadcast::error::RecvError::Lagged(_)) => Next::End,
            Err(broadcast::error::RecvError::Closed) => Next::End,
        },
        Source::Script { rest, cut, app } => {
            if let Some(bytes) = rest.pop_front() {
                return Next::Bytes(bytes, false);
            }
            match cut {
                Cut::Pending => {
                    *cut = Cut::Sent;
                    Next::Bytes(Bytes::from_static(script::CUT_PARTIAL), false)
                }
                Cut::Sent => {
                    // A pause so the bytes before are flushed, then the connection is
                    // dropped without ending the response.
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    *app.script.cut_at.lock().unwrap() = Some(Instant::now());
                    *cut = Cut::Done;
                    Next::Abort
                }
                Cut::Done => std::future::pending().await,
            }
        }
    }
}

/// Now as `YYYY-MM-DD HH:MM:SS UTC` (no date crate needed).
pub fn utc_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// Resolves once shutdown has begun (or the server is gone).
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    // The `Ref` this returns is not `Send`: drop it here.
    let _ = shutdown.wait_for(|stop| *stop).await;
}
