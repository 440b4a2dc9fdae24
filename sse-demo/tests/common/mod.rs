//! What the integration tests share: starting the server, checking a scripted run from the
//! server's side, and skipping loudly when an outside peer is missing.
#![allow(dead_code)] // each test binary uses part of it

use std::net::SocketAddr;
use std::time::Duration;

use sse_demo::script;
use sse_demo::server::{self, Config, Running};

/// Starts the demo server on 127.0.0.1, on a free port.
pub async fn start(config: Config) -> Running {
    let loopback: SocketAddr = "127.0.0.1:0".parse().unwrap();
    server::start(loopback, config)
        .await
        .expect("bind 127.0.0.1")
}

/// Starts the demo server with a fast weather broadcast (every 20 ms) and returns once its
/// history holds at least `events` reports, with the URL of the weather stream.
pub async fn weather_server(events: u64) -> (Running, String) {
    let server = start(Config {
        weather_every: Duration::from_millis(20),
        ..Config::default()
    })
    .await;
    while server.app.weather_last_id() < events {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let url = format!("http://{}/events/weather", server.addr);
    (server, url)
}

/// Checks the server side of a scripted run: a first connection without `Last-Event-ID`,
/// a second with the id of the last whole event, after the reconnection time the stream set
/// just before the cut (not the one it set at the start).
pub fn check_script_connections(server: &Running) {
    let connections = server.app.script.connections();
    let ids: Vec<_> = connections
        .iter()
        .map(|c| c.last_event_id.as_deref())
        .collect();
    assert_eq!(ids, [None, Some(script::CUT_AFTER_ID)]);
    let cut = server
        .app
        .script
        .cut_at()
        .expect("the server cut the stream");
    let waited = connections[1].at.duration_since(cut);
    assert!(
        waited >= script::RETRY_AT_CUT - Duration::from_millis(20),
        "reconnected {waited:?} after the cut, before the retry of {:?}",
        script::RETRY_AT_CUT
    );
    assert!(
        waited < script::RETRY_AT_START,
        "reconnected {waited:?} after the cut: the retry sent before the cut was not used"
    );
    eprintln!(
        "reconnected {waited:?} after the cut (retry: {:?})",
        script::RETRY_AT_CUT
    );
}

/// Whether this run is CI's (`CI=true`), where a missing peer is a failure, not a skip.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// A missing outside peer: fails in CI, otherwise says loudly that the test did not run.
pub fn missing_peer(what: &str, install: &str) {
    if in_ci() {
        panic!("{what} is missing and CI=true: {install}");
    }
    // Straight to stderr: the test harness captures `eprintln!`, and a skip must be seen.
    use std::io::Write;
    let line = "!".repeat(78);
    let _ = writeln!(
        std::io::stderr(),
        "{line}\nSKIPPED: {what} is missing, so this test did NOT run.\n  {install}\n{line}"
    );
}

/// What a client yields.
pub type Item = Result<sse_proto_io::Incoming, sse_proto_io::Error>;

/// The client settings of the tests: a 10 s read timeout, so a silent server fails a test
/// quickly, and comments reported.
pub fn client_config() -> sse_proto::ClientConfig {
    let mut config = sse_proto::ClientConfig::default();
    config.read_timeout = Some(Duration::from_secs(10));
    config.parser.emit_comments = true;
    config
}

/// The async client on `url`.
pub fn async_source(
    url: &str,
    config: sse_proto::ClientConfig,
) -> sse_proto_io::reqwest::EventSource {
    sse_proto_io::reqwest::EventSource::with_config(reqwest::Client::new().get(url), config)
        .expect("a valid request")
}

/// The blocking client on `url`.
pub fn blocking_source(
    url: &str,
    config: sse_proto::ClientConfig,
) -> sse_proto_io::blocking::EventSource {
    let request = http::Request::get(url).body("").expect("a valid URL");
    sse_proto_io::blocking::EventSource::with_config(request, config).expect("a valid request")
}

/// Whether `item` is an event of type `event_type`; panics on an error after which the
/// source stops.
pub fn is_event_of_type(item: &Item, event_type: &str) -> bool {
    match item {
        Ok(incoming) => incoming
            .event()
            .is_some_and(|event| event.event_type() == event_type),
        Err(error) if error.will_retry() => false,
        Err(error) => panic!("the source stopped: {error}"),
    }
}
