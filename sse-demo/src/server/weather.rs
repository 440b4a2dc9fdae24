//! `/events/weather`: one producer, published once through the [`Hub`](sse_proto_io::server::Hub)
//! to every client; a client that reconnects with `Last-Event-ID` gets what it missed, one
//! the history cannot resume gets the newest report first (the aiohttp SSE tutorial's
//! weather).

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;
use sse_proto::Event;
use sse_proto_io::server::last_event_id;

use super::{respond, stopped, App, StreamRequest};

pub(super) async fn stream(State(app): State<Arc<App>>, request: StreamRequest) -> Response {
    let subscription = app
        .hub
        .subscribe_with(last_event_id(&request.headers), |newest| {
            newest.cloned().into_iter().collect()
        });
    respond(&app, request, Some(app.config.retry), subscription)
}

/// Publishes a report every `weather_every` until shutdown.
pub(super) async fn produce(app: Arc<App>) {
    let mut shutdown = app.shutdown.clone();
    let mut every = tokio::time::interval(app.config.weather_every);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut weather = Weather::default();
    loop {
        tokio::select! {
            _ = every.tick() => {
                let id = app.weather_last_id() + 1;
                let event = Event::builder().event("weather").id(id.to_string()).data(weather.next());
                app.hub.publish(event.build().expect("no line break in the type or id"));
                app.weather_last_id.store(id, Ordering::Relaxed);
            }
            _ = stopped(&mut shutdown) => return app.hub.close(),
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
