//! A real browser: Debian's Chromium, headless, on 127.0.0.1.
//!
//! - The demo page `/` (what the README's first command serves) shows live events: the
//!   server time and the weather broadcast, read back from the page.
//! - The `/script` page's own EventSource receives the scripted stream, the server cuts the
//!   first connection mid-event, the browser reconnects after the `retry:` with
//!   `Last-Event-ID`, and the page posts back every event it got; the test compares them
//!   with what the server sent.
//!
//! Without Chromium the test says loudly that it did not run; with `CI=true` it fails.
//! `SSE_DEMO_CHROMIUM` names another binary.

use std::time::Duration;

use sse_demo::script::{self, Seen};
use sse_demo::server::Config;

mod common;

// The launcher the server examples' Chromium tests use: one place for the flags, the fresh
// profile and the process group that is ended.
#[path = "../../sse-proto-io/tests/common/chromium.rs"]
mod chromium;

use chromium::Browser;

#[tokio::test]
async fn chromium_shows_the_demo_page_live() {
    let Some(binary) = chromium::binary() else {
        return;
    };
    let server = common::start(Config {
        tick: Duration::from_millis(200),
        weather_every: Duration::from_millis(200),
        ..Config::default()
    })
    .await;
    let browser = Browser::open(&binary, &format!("http://{}/?check", server.addr));
    let report = tokio::time::timeout(Duration::from_secs(60), server.app.script.next_report())
        .await
        .expect("the page reported within 60 s");
    drop(browser);

    let seen =
        |kind: &str| -> Vec<Seen> { serde_json::from_value(report["seen"][kind].clone()).unwrap() };
    let (time, weather) = (seen("time"), seen("weather"));
    assert!(time.len() >= 2 && weather.len() >= 2, "{report}");
    assert!(time
        .iter()
        .all(|e| e.event == "message" && e.data.starts_with("Server Time : ")));
    let shown_time = report["shown"]["time"].as_str().unwrap();
    assert_eq!(
        shown_time,
        time.last().unwrap().data,
        "the page shows the latest time"
    );
    // The broadcast: consecutive ids, each shown in the list.
    let ids: Vec<u64> = weather
        .iter()
        .map(|e| e.last_event_id.parse().unwrap())
        .collect();
    assert!(ids.windows(2).all(|w| w[1] == w[0] + 1), "{ids:?}");
    let shown_weather: Vec<&str> = report["shown"]["weather"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for event in &weather {
        assert_eq!(event.event, "weather");
        let prefix = format!("#{} ", event.last_event_id);
        assert!(
            shown_weather.iter().any(|li| li.starts_with(&prefix)),
            "event {} not shown in {shown_weather:?}",
            event.last_event_id
        );
    }
    eprintln!("the page showed {shown_time:?} and {shown_weather:?}");
    server.shutdown().await;
}

#[tokio::test]
async fn chromium_eventsource_gets_the_script_exactly_once() {
    let Some(binary) = chromium::binary() else {
        return;
    };
    let server = common::start(Config::default()).await;
    let url = format!("http://{}/script", server.addr);
    let browser = Browser::open(&binary, &url);
    let report = tokio::time::timeout(Duration::from_secs(60), server.app.script.next_report())
        .await
        .expect("the page reported within 60 s");
    drop(browser);

    eprintln!("browser: {}", report["userAgent"]);
    let seen: Vec<Seen> =
        serde_json::from_value(report["events"].clone()).expect("the report's events");
    assert_eq!(
        seen,
        script::expected(),
        "the browser got every event once, in order"
    );
    assert_eq!(report["opens"], 2, "opened, cut, reopened");
    common::check_script_connections(&server);
    server.shutdown().await;
}
