//! `/events/weather`: one producer, published once through the [`Hub`](sse_proto_io::server::Hub)
//! to every client; a client that reconnects with `Last-Event-ID` gets what it missed, one
//! the history cannot resume gets the newest report first (the aiohttp SSE tutorial's
//! weather).
//!
//! With `--redis URL` the broadcast runs on a [`RedisHub`] instead: every instance on that
//! Redis publishes its reports to one stream and serves the whole stream, so a client gets
//! every instance's reports and can resume at any instance. The stream gives the ids, and
//! each report says which instance made it (`"from"`).

use std::future::ready;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;
use futures_util::stream;
use sse_proto::{Event, Frame};
use sse_proto_io::server::{last_event_id, Hub, HubStats, RedisHub};

use super::{respond, respond_until, stopped, App, StreamRequest};

/// What the weather goes through.
pub(super) enum Broadcast {
    /// This process's hub, with its resume history.
    Local(Hub),
    /// A Redis stream shared with every instance on the same Redis (`--redis`).
    Redis(RedisHub),
}

impl Broadcast {
    /// The hub's counters, for `/stats`.
    pub(super) fn stats(&self) -> HubStats {
        match self {
            Broadcast::Local(hub) => hub.stats(),
            Broadcast::Redis(hub) => hub.stats(),
        }
    }
}

pub(super) async fn stream(State(app): State<Arc<App>>, request: StreamRequest) -> Response {
    let last_event_id = last_event_id(&request.headers);
    let retry = Some(app.config.retry);
    match &app.weather {
        Broadcast::Local(hub) => {
            let subscription = hub.subscribe_with(last_event_id, |newest| {
                newest.cloned().into_iter().collect()
            });
            respond(&app, request, retry, subscription)
        }
        // No full state first: a new client, or one whose id the stream no longer has,
        // starts at the next report.
        Broadcast::Redis(hub) => match hub.subscribe(last_event_id).await {
            // When this instance can no longer vouch for its feed (Redis lost its data), the
            // body sends a short `retry:` and closes; the client comes back with its id.
            Ok(subscription) => {
                let interrupted = subscription.interrupted();
                respond_until(&app, request, retry, subscription, interrupted)
            }
            // A resume needs Redis, and it is unreachable: rather than a 503, after which an
            // EventSource gives up for good, a stream that asks the client to come back.
            Err(error) => {
                if app.config.log {
                    eprintln!("weather: cannot resume after {last_event_id:?}: {error}");
                }
                respond_until(&app, request, retry, stream::empty::<Frame>(), ready(()))
            }
        },
    }
}

/// Publishes a report every `weather_every` until shutdown.
pub(super) async fn produce(app: Arc<App>, from: String) {
    let mut shutdown = app.shutdown.clone();
    let mut every = tokio::time::interval(app.config.weather_every);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut weather = Weather::default();
    loop {
        tokio::select! {
            _ = every.tick() => {
                let id = app.weather_last_id() + 1;
                match &app.weather {
                    Broadcast::Local(hub) => {
                        let event = Event::builder().event("weather").id(id.to_string()).data(weather.next(None));
                        hub.publish(event.build().expect("no line break in the type or id"));
                    }
                    Broadcast::Redis(hub) => {
                        // No id: the stream gives it (`<epoch>-<ms>-<seq>`).
                        let event = Event::builder().event("weather").data(weather.next(Some(&from)));
                        let published = match event.build() {
                            Ok(event) => hub.publish(&event).await.map_err(|e| e.to_string()),
                            Err(error) => Err(error.to_string()),
                        };
                        // Redis down: this report is lost, the next tick tries again.
                        if let Err(error) = published {
                            if app.config.log {
                                eprintln!("weather: not published: {error}");
                            }
                            continue;
                        }
                    }
                }
                app.weather_last_id.store(id, Ordering::Relaxed);
            }
            _ = stopped(&mut shutdown) => {
                return match &app.weather {
                    Broadcast::Local(hub) => hub.close(),
                    Broadcast::Redis(hub) => hub.close(),
                };
            }
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
    /// The next report as JSON; `from`, the instance's address, is added on Redis, where
    /// reports of several instances share one stream.
    fn next(&mut self, from: Option<&str>) -> String {
        const CITIES: [&str; 5] = ["Amsterdam", "Lisbon", "Oslo", "Nairobi", "Lima"];
        const SKIES: [&str; 4] = ["sunny", "cloudy", "rain", "wind"];
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        let city = (self.n % 5) as usize;
        self.n += 1;
        let step = ((self.state % 11) as f64 - 5.0) / 10.0;
        self.temps[city] += step;
        let from = from.map(|from| format!(r#","from":"{from}""#));
        format!(
            r#"{{"city":"{}","temp_c":{:.1},"sky":"{}","n":{}{}}}"#,
            CITIES[city],
            self.temps[city],
            SKIES[(self.state >> 8) as usize % 4],
            self.n,
            from.unwrap_or_default()
        )
    }
}
