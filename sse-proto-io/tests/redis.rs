//! The Redis backend against a real `redis-server` (Debian's package) that each test starts
//! on a free loopback port with persistence off and stops by its PID. Three instances serve
//! real HTTP on loopback; the clients are this crate's reqwest `EventSource`. Every wait is
//! bounded. Without `redis-server` the tests fail under `CI=true` and say SKIPPED otherwise.
#![cfg(all(feature = "redis", feature = "reqwest"))]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use hyper_util::rt::{TokioExecutor, TokioIo};
use sse_proto::{Event, Frame};
use sse_proto_io::server::{last_event_id, RedisConfig, RedisError, RedisHub, Resume};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

// Shared with sse-demo's Redis tests, which include the same file.
#[path = "common/redis_server.rs"]
mod redis_server;
use redis_server::{free_port, Redis};

const LIMIT: Duration = Duration::from_secs(20);

fn config() -> RedisConfig {
    let mut config = RedisConfig::new("events");
    config.block = Duration::from_millis(200);
    config.reconnect_max = Duration::from_millis(200);
    config
}

/// The full state the tests' instances send to a new or unknown client: one `state` event.
fn full_state() -> Vec<Frame> {
    let state = Event::builder().event("state").data("full").build();
    vec![Frame::from_event(&state.expect("no line break"))]
}

/// An instance: a hub on Redis, serving `/events` over HTTP/1.1 on its own port.
struct Instance {
    hub: RedisHub,
    addr: SocketAddr,
    server: JoinHandle<()>,
    connections: std::sync::Arc<std::sync::Mutex<Vec<JoinHandle<()>>>>,
}

impl Instance {
    async fn start(url: &str) -> Instance {
        let hub = RedisHub::connect(url, config()).await.expect("connect");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let connections = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (served, tracked) = (hub.clone(), connections.clone());
        let server = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let hub = served.clone();
                let service = hyper::service::service_fn(move |request: http::Request<_>| {
                    let hub = hub.clone();
                    async move {
                        let id = last_event_id(request.headers()).map(str::to_owned);
                        let response = match hub.subscribe_with(id.as_deref(), full_state).await {
                            Ok(subscription) => subscription
                                .into_sse()
                                .shutdown_retry(Duration::from_millis(50))
                                .into_http_response(http::Version::HTTP_11)
                                .map(http_body_util::Either::Left),
                            Err(error) => {
                                eprintln!("subscribe failed: {error}");
                                http::Response::builder()
                                    .status(503)
                                    .body(http_body_util::Either::Right(
                                        http_body_util::Empty::new(),
                                    ))
                                    .expect("a response")
                            }
                        };
                        Ok::<_, Infallible>(response)
                    }
                });
                let connection = tokio::spawn(async move {
                    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(socket), service)
                        .await;
                });
                tracked.lock().unwrap().push(connection);
            }
        });
        Instance {
            hub,
            addr,
            server,
            connections,
        }
    }

    fn url(&self) -> String {
        format!("http://{}/events", self.addr)
    }

    /// Stops it abruptly: the listener and every connection dropped mid-stream, no
    /// closing frame, the hub gone.
    fn kill(self) {
        self.server.abort();
        for connection in self.connections.lock().unwrap().drain(..) {
            connection.abort();
        }
        self.hub.close();
    }
}

/// A client: the crate's reqwest `EventSource`, and the data and ids it got.
struct Client {
    source: sse_proto_io::reqwest::EventSource,
    got: Vec<(String, String)>,
}

impl Client {
    fn new(url: &str, last_event_id: Option<&str>) -> Client {
        let mut config = sse_proto::ClientConfig::default();
        config.read_timeout = Some(Duration::from_secs(10));
        let mut source = sse_proto_io::reqwest::EventSource::with_config(
            reqwest::Client::new().get(url),
            config,
        )
        .expect("a valid request");
        if let Some(id) = last_event_id {
            source.set_last_event_id(id).expect("a valid id");
        }
        Client {
            source,
            got: Vec::new(),
        }
    }

    /// Reads until the stream (re)opens, keeping the events it gets on the way. The
    /// source reconnects only while it is read, as any `Stream` does.
    async fn opened(&mut self) {
        tokio::time::timeout(LIMIT, async {
            while let Some(item) = self.source.next().await {
                match item {
                    Ok(sse_proto_io::Incoming::Open { .. }) => return,
                    Ok(sse_proto_io::Incoming::Event(event)) => self
                        .got
                        .push((event.id().unwrap_or("").to_owned(), event.data().to_owned())),
                    _ => {}
                }
            }
            panic!("the source ended before it opened");
        })
        .await
        .unwrap_or_else(|_| panic!("not opened in time; got {:?}", self.got));
    }

    /// Reads events until one has data `until`.
    async fn read_until(&mut self, until: &str) {
        tokio::time::timeout(LIMIT, async {
            while let Some(item) = self.source.next().await {
                if let Ok(sse_proto_io::Incoming::Event(event)) = item {
                    let data = event.data().to_owned();
                    self.got
                        .push((event.id().unwrap_or("").to_owned(), data.clone()));
                    if data == until {
                        return;
                    }
                }
            }
            panic!("the source ended");
        })
        .await
        .unwrap_or_else(|_| panic!("no {until:?} in time; got {:?}", self.got));
    }

    fn data(&self) -> Vec<&str> {
        self.got.iter().map(|(_, data)| data.as_str()).collect()
    }

    fn last_id(&self) -> &str {
        &self.got.last().expect("an event").0
    }
}

async fn publish(hub: &RedisHub, data: &str) -> String {
    hub.publish(&Event::new(data.to_owned()))
        .await
        .expect("publish")
}

fn numbered(range: std::ops::RangeInclusive<u32>) -> Vec<String> {
    range.map(|n| n.to_string()).collect()
}

/// Waits until `hub` has `n` local subscribers (the clients' streams are open there).
async fn subscribers(hub: &RedisHub, n: usize) {
    let deadline = Instant::now() + LIMIT;
    while hub.stats().subscribers != n {
        assert!(
            Instant::now() < deadline,
            "{n} subscribers: {:?}",
            hub.stats()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_then_one_killed_its_clients_resume_elsewhere() {
    let Some(redis) = Redis::start() else { return };
    let instances = [
        Instance::start(&redis.url()).await,
        Instance::start(&redis.url()).await,
        Instance::start(&redis.url()).await,
    ];
    // Two clients on each instance; the producer publishes on the first.
    let mut clients = Vec::new();
    for instance in &instances {
        for _ in 0..2 {
            let mut client = Client::new(&instance.url(), None);
            client.opened().await;
            clients.push(client);
        }
    }
    for instance in &instances {
        subscribers(&instance.hub, 2).await;
    }
    for n in 1..=20 {
        publish(&instances[0].hub, &n.to_string()).await;
    }
    for client in &mut clients {
        client.read_until("20").await;
        let mut expected = vec!["full".to_owned()];
        expected.extend(numbered(1..=20));
        assert_eq!(client.data(), expected);
    }

    // The third instance dies mid-stream; events go on meanwhile.
    let [first, second, third] = instances;
    third.kill();
    for n in 21..=30 {
        publish(&first.hub, &n.to_string()).await;
    }
    // Its clients come back, one to each survivor, with the id of the last event they got.
    let moved: Vec<_> = clients.drain(4..).collect();
    for (client, to) in moved.into_iter().zip([&first, &second]) {
        drop(client.source);
        let mut again = Client::new(&to.url(), Some(&client.got.last().unwrap().0));
        again.read_until("30").await;
        assert_eq!(again.data(), numbered(21..=30), "exactly what it missed");
    }
    for client in &mut clients {
        client.read_until("30").await;
        assert_eq!(client.data()[21..], numbered(21..=30)[..]);
    }
    // The ids are the stream's, ordered.
    let ids: Vec<_> = clients[0].got[1..]
        .iter()
        .map(|(id, _)| id.clone())
        .collect();
    assert!(ids.windows(2).all(|w| w[0] != w[1]));
    drop(second);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_id_trimmed_away_is_unknown_and_gets_the_full_state() {
    let Some(redis) = Redis::start() else { return };
    let mut config = config();
    config.history = 10;
    let hub = RedisHub::connect(&redis.url(), config)
        .await
        .expect("connect");
    let old = publish(&hub, "old").await;
    // Kept: resumes.
    let kept = hub.subscribe(Some(&old)).await.expect("subscribe");
    assert_eq!(kept.resume(), Resume::UpToDate);
    // `MAXLEN ~` trims whole nodes of 100 entries: publish well past one.
    for n in 0..300 {
        publish(&hub, &n.to_string()).await;
    }
    let len: usize = redis.cli(&["XLEN", "events"]).parse().expect("XLEN");
    assert!(len < 300, "trimmed to about 10: {len}");
    let mut trimmed = hub
        .subscribe_with(Some(&old), full_state)
        .await
        .expect("subscribe");
    assert_eq!(trimmed.resume(), Resume::Unknown);
    let first = trimmed.next().await.expect("the full state");
    assert_eq!(&first.as_bytes()[..], b"event: state\ndata: full\n\n");
    // A recent id still resumes, exactly.
    let recent = publish(&hub, "recent").await;
    publish(&hub, "after").await;
    let mut resumed = hub.subscribe(Some(&recent)).await.expect("subscribe");
    assert_eq!(resumed.resume(), Resume::Replayed(1));
    let after = resumed.next().await.expect("replayed");
    assert!(after.as_bytes().ends_with(b"data: after\n\n"));
    // Malformed and foreign ids are unknown too, without a gap.
    for id in ["42", "nope", "zzzz-1-0"] {
        let subscription = hub.subscribe(Some(id)).await.expect("subscribe");
        assert_eq!(subscription.resume(), Resume::Unknown, "{id}");
    }
    // Ids are the stream's: an event with its own id is refused.
    let with_id = Event::builder().id("7").data("x").build().expect("valid");
    assert!(matches!(
        hub.publish(&with_id).await,
        Err(RedisError::EventHasId { .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_unreachable_at_start_is_a_typed_error() {
    let port = free_port();
    let started = Instant::now();
    let error = RedisHub::connect(&format!("redis://127.0.0.1:{port}/"), config()).await;
    assert!(matches!(error, Err(RedisError::Redis(_))), "{error:?}");
    assert!(started.elapsed() < LIMIT);
    let error = RedisHub::connect("not a url", config()).await;
    assert!(matches!(error, Err(RedisError::Redis(_))), "{error:?}");
}

/// An instance with one client that got the event `1`.
async fn one_client(redis: &Redis) -> (Instance, Client) {
    let instance = Instance::start(&redis.url()).await;
    let mut client = Client::new(&instance.url(), None);
    client.opened().await;
    subscribers(&instance.hub, 1).await;
    publish(&instance.hub, "1").await;
    client.read_until("1").await;
    (instance, client)
}

/// Waits for the reader to end the feed, then for the client to come back.
async fn come_back(instance: &Instance, client: &mut Client) {
    let deadline = Instant::now() + LIMIT;
    while instance.hub.interruptions() == 0 {
        assert!(Instant::now() < deadline, "the reader did not end the feed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    client.opened().await;
    subscribers(&instance.hub, 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_flushed_clients_told_to_come_back_and_their_ids_unknown() {
    let Some(redis) = Redis::start() else { return };
    let (instance, mut client) = one_client(&redis).await;
    let before = client.last_id().to_owned();
    assert_eq!(redis.cli(&["FLUSHALL"]), "OK");
    // The reader notices within a block time, ends the feed: the body sends `retry:`, the
    // client comes back with its id, now unknown: the full state, then the live feed.
    come_back(&instance, &mut client).await;
    publish(&instance.hub, "2").await;
    client.read_until("2").await;
    assert_eq!(
        client.data(),
        ["full", "1", "full", "2"],
        "no gap hidden, no duplicate"
    );
    assert_ne!(
        client.last_id().split('-').next(),
        before.split('-').next(),
        "a new epoch"
    );
    let subscription = instance
        .hub
        .subscribe(Some(&before))
        .await
        .expect("subscribe");
    assert_eq!(subscription.resume(), Resume::Unknown);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_restarted_mid_stream_no_duplicate_no_silent_gap() {
    let Some(mut redis) = Redis::start() else {
        return;
    };
    let port = redis.port;
    let (instance, mut client) = one_client(&redis).await;
    redis.kill();
    // Down: publishing fails with a typed error, no panic.
    assert!(matches!(
        instance.hub.publish(&Event::new("lost")).await,
        Err(RedisError::Redis(_))
    ));
    // Back, empty (no persistence): the reader reconnects, finds a new epoch, and ends the
    // feed; the client returns with an id that is now unknown.
    let _redis = Redis::on(port);
    come_back(&instance, &mut client).await;
    let deadline = Instant::now() + LIMIT;
    let published = loop {
        // The publisher's connection is made again on the first call after the failure.
        match instance.hub.publish(&Event::new("2")).await {
            Ok(id) => break id,
            Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await
            }
            Err(error) => panic!("publish after the restart: {error}"),
        }
    };
    client.read_until("2").await;
    assert_eq!(client.data(), ["full", "1", "full", "2"]);
    assert_eq!(client.last_id(), published);
}
