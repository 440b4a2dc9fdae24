//! The demo server: axum routes on hyper-util connections, every stream an
//! [`sse_proto_io::server::Sse`] body.
//!
//! | route | what | file |
//! | --- | --- | --- |
//! | `GET /` | a page whose EventSources show the server time and the weather live | here |
//! | `GET /events/time` | the server time every second, one generator per client (aiohttp-sse's quickstart) | `time.rs` |
//! | `GET /events/weather` | one producer broadcast through a [`Hub`] to every client, resumable with `Last-Event-ID` (the aiohttp SSE tutorial's weather); with [`Config::redis`], through a Redis stream shared by every instance | `weather.rs` |
//! | `GET /events/script` | a fixed sequence, cut mid-event on a first connection, resumed after `Last-Event-ID` (the tests' script, [`crate::script`]) | `scripted.rs` |
//! | `GET /script` | a page that records what its EventSource got from `/events/script` and posts it back | here |
//! | `POST /report` | where the pages post what they saw (`/script`, and `/?check`) | `scripted.rs` |
//! | `GET /stats` | open streams, stalled clients dropped, the hub's counters (JSON) | here |
//!
//! Each stream is `respond`'s: the crate's body with this server's keep-alive interval and
//! shutdown signal. The connections are `accept.rs`'s: one [`Watchdog`] each, with the send
//! timeout, so a client that stops reading is dropped. No protocol rule lives here: headers, pings, stalls, resume and the `Accept`
//! check are `sse-proto`'s.

mod accept;
mod scripted;
mod time;
mod weather;

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode, Version};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::{Stream, StreamExt};
use sse_proto::{accepts_event_stream, Frame, Message, ResumeBuffer, ResumeLimits};
use sse_proto_io::server::{Hub, HubConfig, RedisConfig, RedisHub, Sse, SseItem, Watchdog};
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use scripted::{ScriptConnection, ScriptLog};
pub use time::utc_now;

/// What the server does, and how often.
#[derive(Clone, Debug)]
pub struct Config {
    /// Period of `/events/time`.
    pub tick: Duration,
    /// Period of the weather broadcast.
    pub weather_every: Duration,
    /// Idle time before a keep-alive ping (15 s, like sse-starlette and axum).
    pub keep_alive: Duration,
    /// How long a client may leave bytes untaken before it is dropped (sse-starlette's
    /// `send_timeout`).
    pub send_timeout: Duration,
    /// The reconnection time sent at the start of `/events/time` and `/events/weather`.
    pub retry: Duration,
    /// Bounds of the weather history.
    pub resume: ResumeLimits,
    /// Frames a weather subscriber may fall behind before it is disconnected (it then
    /// resumes from the history with `Last-Event-ID`).
    pub channel_capacity: usize,
    /// The kernel send buffer of each connection (`SO_SNDBUF`); `None` leaves the kernel's
    /// autotuning on. With `write_buffer` it bounds what a stalled client can pin and how
    /// soon it is noticed.
    pub send_buffer: Option<usize>,
    /// Most bytes hyper buffers per HTTP/1.1 connection before it stops polling the body
    /// (hyper's `max_buf_size`, at least 8 KiB).
    pub write_buffer: usize,
    /// How long shutdown waits for connections to close after every stream has ended.
    pub shutdown_grace: Duration,
    /// Print connections, stalls and shutdown to stderr.
    pub log: bool,
    /// Run the weather broadcast on the Redis at this URL (`redis://host:port/db`), shared
    /// with every instance on it, instead of in this process (`--redis`).
    pub redis: Option<String>,
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
            channel_capacity: HubConfig::DEFAULT_CAPACITY,
            send_buffer: None,
            write_buffer: 64 * 1024,
            shutdown_grace: Duration::from_secs(5),
            log: false,
            redis: None,
        }
    }
}

/// Counters of the streams, readable while the server runs (and served as `/stats` with
/// the hub's).
#[derive(Debug, Default)]
pub struct Stats {
    /// Event streams open now.
    pub streams: AtomicUsize,
    /// Event streams opened so far.
    pub streams_opened: AtomicU64,
    /// Connections dropped because their client stopped reading.
    pub stalled: AtomicU64,
}

/// The server's shared state.
pub struct App {
    config: Config,
    weather: weather::Broadcast,
    weather_last_id: AtomicU64,
    shutdown: watch::Receiver<bool>,
    /// Counters.
    pub stats: Stats,
    /// What the script endpoints saw.
    pub script: ScriptLog,
}

impl App {
    /// The id of the newest weather event; on Redis, where the stream gives the ids, how
    /// many reports this instance published.
    pub fn weather_last_id(&self) -> u64 {
        self.weather_last_id.load(Ordering::Relaxed)
    }
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

/// The key of the weather stream on Redis (its epoch is at `sse-demo:weather:epoch`).
pub const REDIS_STREAM: &str = "sse-demo:weather";

/// Binds `addr` and serves until [`Running::shutdown`]. With [`Config::redis`], connects to
/// that Redis first: an error (of kind `Other`) when it cannot be reached.
pub async fn start(addr: SocketAddr, config: Config) -> io::Result<Running> {
    let mut hub_config = HubConfig::default();
    hub_config.capacity = config.channel_capacity;
    let weather = match &config.redis {
        None => weather::Broadcast::Local(Hub::with_store(
            ResumeBuffer::new(config.resume),
            hub_config,
        )),
        Some(url) => {
            let mut redis = RedisConfig::new(REDIS_STREAM);
            redis.hub = hub_config;
            let hub = RedisHub::connect(url, redis)
                .await
                .map_err(|error| io::Error::other(format!("Redis at {url}: {error}")))?;
            weather::Broadcast::Redis(hub)
        }
    };
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let app = Arc::new(App {
        weather,
        weather_last_id: AtomicU64::new(0),
        shutdown: shutdown_rx.clone(),
        stats: Stats::default(),
        script: ScriptLog::default(),
        config,
    });
    let producer = tokio::spawn(weather::produce(app.clone(), addr.to_string()));
    let router = router(app.clone());
    let serving = app.clone();
    let task = tokio::spawn(async move {
        accept::serve(listener, router, shutdown_rx, serving).await;
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
        .route(
            "/",
            get(|| async { Html(include_str!("../page/index.html")) }),
        )
        .route(
            "/script",
            get(|| async { Html(include_str!("../page/script.html")) }),
        )
        .route("/events/time", get(time::stream))
        .route("/events/weather", get(weather::stream))
        .route("/events/script", get(scripted::stream))
        .route("/report", post(scripted::report))
        .route("/stats", get(stats))
        .with_state(app)
}

async fn stats(State(app): State<Arc<App>>) -> Json<serde_json::Value> {
    let (s, hub) = (&app.stats, app.weather.stats());
    Json(serde_json::json!({
        "streams": s.streams.load(Ordering::Relaxed),
        "streams_opened": s.streams_opened.load(Ordering::Relaxed),
        "stalled": s.stalled.load(Ordering::Relaxed),
        "lagged": hub.lagged,
        "subscribers": hub.subscribers,
        "resume_hits": hub.resume_hits,
        "resume_misses": hub.resume_misses,
        "weather_last_id": app.weather_last_id(),
    }))
}

/// What a stream handler needs from its request: the HTTP version (for the headers), the
/// headers (`Accept`, `Last-Event-ID`) and the connection's watchdog.
pub(crate) struct StreamRequest {
    version: Version,
    headers: HeaderMap,
    watchdog: Option<Watchdog>,
}

impl<S: Send + Sync> FromRequestParts<S> for StreamRequest {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(StreamRequest {
            version: parts.version,
            headers: parts.headers.clone(),
            watchdog: parts.extensions.get::<Watchdog>().cloned(),
        })
    }
}

/// The response to a stream request: `406` when its `Accept` excludes event streams,
/// otherwise `stream` as the crate's body, opened with a comment (and `retry`), with this
/// server's keep-alive and shutdown, and the connection's watchdog (the send timeout),
/// counted while open.
pub(crate) fn respond<S>(
    app: &Arc<App>,
    request: StreamRequest,
    retry: Option<Duration>,
    stream: S,
) -> Response
where
    S: Stream + Send + 'static,
    S::Item: SseItem + Send + 'static,
{
    respond_until(app, request, retry, stream, std::future::pending())
}

/// [`respond`], ending the stream with a `retry:` also when `until` resolves (before
/// shutdown): a feed that can no longer vouch for what it sends.
pub(crate) fn respond_until<S>(
    app: &Arc<App>,
    request: StreamRequest,
    retry: Option<Duration>,
    stream: S,
    until: impl Future<Output = ()> + Send + 'static,
) -> Response
where
    S: Stream + Send + 'static,
    S::Item: SseItem + Send + 'static,
{
    let accept = request.headers.get(header::ACCEPT).map(|v| v.as_bytes());
    if !accepts_event_stream(accept) {
        let refusal = "this endpoint only serves text/event-stream\n";
        return (StatusCode::NOT_ACCEPTABLE, refusal).into_response();
    }
    let open = OpenStream::new(app);
    // The guard goes with the stream: the body drops both when the client goes away.
    let stream = stream.map(move |item| {
        let _open = &open;
        item
    });
    let mut shutdown = app.shutdown.clone();
    let mut body = Sse::new(stream)
        .opening(Frame::from_message(&Message::comment("connected")))
        .keep_alive_interval(app.config.keep_alive)
        .shutdown(async move {
            tokio::select! {
                _ = stopped(&mut shutdown) => {}
                _ = until => {}
            }
        })
        .http_version(request.version);
    if let Some(retry) = retry {
        body = body.retry(retry);
    }
    if let Some(watchdog) = &request.watchdog {
        body = body.watchdog(watchdog);
    }
    body.into_response()
}

/// Counts a stream while it is open.
struct OpenStream(Arc<App>);

impl OpenStream {
    fn new(app: &Arc<App>) -> Self {
        app.stats.streams.fetch_add(1, Ordering::Relaxed);
        app.stats.streams_opened.fetch_add(1, Ordering::Relaxed);
        OpenStream(app.clone())
    }
}

impl Drop for OpenStream {
    fn drop(&mut self) {
        self.0.stats.streams.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Resolves once shutdown has begun (or the server is gone).
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    // The `Ref` this returns is not `Send`: drop it here.
    let _ = shutdown.wait_for(|stop| *stop).await;
}
