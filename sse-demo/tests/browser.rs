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

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sse_demo::script::{self, Seen};
use sse_demo::server::Config;

mod common;

fn chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("SSE_DEMO_CHROMIUM") {
        return Some(PathBuf::from(path)).filter(|p| p.is_file());
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin")])
        .flat_map(|dir| ["chromium", "chromium-browser"].map(|name| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// The browser and its helper processes, in a process group of their own; dropping it ends
/// the group and removes the profile.
struct Browser {
    child: Child,
    profile: PathBuf,
}

impl Browser {
    fn open(binary: &PathBuf, url: &str) -> Browser {
        use std::os::unix::process::CommandExt;
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let profile =
            std::env::temp_dir().join(format!("sse-demo-chromium-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&profile).unwrap();
        let child = Command::new(binary)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-quic",
                "--disable-dev-shm-usage",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg(url)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("start chromium");
        Browser { child, profile }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // The group's id is the browser's pid: this ends the browser we started and the
        // helper processes it started, nothing else.
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        for _ in 0..50 {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

fn chromium_or_skip() -> Option<PathBuf> {
    let binary = chromium();
    if binary.is_none() {
        common::missing_peer(
            "chromium",
            "install it with `apt-get install -y chromium` (sse-demo/ci.sh does)",
        );
    }
    binary
}

#[tokio::test]
async fn chromium_shows_the_demo_page_live() {
    let Some(binary) = chromium_or_skip() else {
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
    let Some(binary) = chromium_or_skip() else {
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
