//! Headless Chromium as the peer of the server examples' tests: a check page whose
//! `EventSource`s read an example's streams and post back what they got.
//!
//! The page (`GET /chromium?src=PATH&src=...&n=N&types=a,b`) opens one `EventSource` per
//! `src`, listens to the event types in `types`, closes each source after `n` events (an
//! open stream never lets the page finish) and posts the events to `/chromium/report`. Merge
//! [`routes`] into the example's router so that the page and the streams share an origin,
//! or serve them alone ([`serve_alone`]) for a stream that allows other origins (CORS).
//!
//! Without Chromium a test says loudly that it did not run; with `CI=true` it fails.
//! `SSE_DEMO_CHROMIUM` names another binary. sse-demo's browser test starts Chromium with
//! this file's [`Browser`] too (one launcher to keep right: flags, profile, process group).
#![allow(dead_code)] // each test uses part of it

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::State;
use axum::response::Html;
use axum::routing::{get, post};
use axum::Router;
use tokio::sync::mpsc;

/// The page: plain script, no framework, so what it reports is what `EventSource` gave it.
const PAGE: &str = r#"<!doctype html>
<html><body><script>
  const query = new URLSearchParams(location.search);
  const want = Number(query.get("n"));
  const types = query.get("types").split(",");
  const report = { streams: [] };
  let open = 0;
  const send = () => fetch("/chromium/report", { method: "POST", body: JSON.stringify(report) });
  for (const src of query.getAll("src")) {
    const seen = { src, events: [], error: false };
    report.streams.push(seen);
    const source = new EventSource(src);
    open += 1;
    const done = () => {
      source.close();
      open -= 1;
      if (open === 0) send();
    };
    for (const type of types) {
      source.addEventListener(type, (e) => {
        seen.events.push([e.type, e.lastEventId, e.data]);
        if (seen.events.length === want) done();
      });
    }
    // Closed by the browser: refused (status, type, CORS); report instead of waiting.
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED) {
        seen.error = true;
        done();
      }
    };
  }
</script></body></html>
"#;

/// What one `EventSource` got: `(type, lastEventId, data)` of each event, and whether the
/// browser gave up on it.
#[derive(Debug)]
pub struct Stream {
    pub src: String,
    pub events: Vec<(String, String, String)>,
    pub error: bool,
}

impl Stream {
    fn from_json(stream: &serde_json::Value) -> Stream {
        let text = |v: &serde_json::Value| v.as_str().expect("a string").to_owned();
        let events = stream["events"].as_array().expect("events");
        Stream {
            src: text(&stream["src"]),
            events: events
                .iter()
                .map(|e| (text(&e[0]), text(&e[1]), text(&e[2])))
                .collect(),
            error: stream["error"].as_bool().expect("error"),
        }
    }

    /// The events' `lastEventId`s, as numbers.
    pub fn ids(&self) -> Vec<u64> {
        let ids = self.events.iter().map(|(_, id, _)| id.parse().ok());
        ids.collect::<Option<_>>()
            .unwrap_or_else(|| panic!("ids: {self:?}"))
    }
}

/// The page's reports, as posted.
pub struct Reports(mpsc::Receiver<String>);

/// The check page and its report endpoint.
pub fn routes() -> (Router, Reports) {
    let (sender, receiver) = mpsc::channel(4);
    let router = Router::new()
        .route("/chromium", get(|| async { Html(PAGE) }))
        .route(
            "/chromium/report",
            post(
                |State(sender): State<mpsc::Sender<String>>, body: String| async move {
                    let _ = sender.send(body).await;
                },
            ),
        )
        .with_state(sender);
    (router, Reports(receiver))
}

/// Serves `router` on a free loopback port of its own.
pub async fn serve_alone(router: Router) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    addr
}

/// Opens `page` (the check page's URL, with its query) in headless Chromium and returns what
/// each of its sources got, within 60 s. `None` when Chromium is missing (a failure under
/// `CI=true`).
pub async fn read(page: &str, reports: &mut Reports) -> Option<Vec<Stream>> {
    let binary = binary()?;
    let browser = Browser::open(&binary, page);
    let posted = tokio::time::timeout(Duration::from_secs(60), reports.0.recv())
        .await
        .expect("the page reported within 60 s")
        .expect("the report endpoint is up");
    drop(browser);
    eprintln!("chromium reported {posted}");
    let report: serde_json::Value = serde_json::from_str(&posted).expect("the page's report");
    let streams = report["streams"].as_array().expect("streams");
    Some(streams.iter().map(Stream::from_json).collect())
}

/// The Chromium binary, or `None` after saying loudly that the test did not run (a
/// failure under `CI=true`).
pub fn binary() -> Option<PathBuf> {
    let found = match std::env::var_os("SSE_DEMO_CHROMIUM") {
        Some(path) => Some(PathBuf::from(path)).filter(|p| p.is_file()),
        None => {
            let path = std::env::var_os("PATH").unwrap_or_default();
            std::env::split_paths(&path)
                .chain([PathBuf::from("/usr/bin")])
                .flat_map(|dir| ["chromium", "chromium-browser"].map(|name| dir.join(name)))
                .find(|candidate| candidate.is_file())
        }
    };
    if found.is_none() {
        let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
        let install = "install it with `apt-get install -y chromium` (sse-demo/ci.sh does)";
        assert!(!ci, "chromium is missing and CI=true: {install}");
        // Straight to stderr: the harness captures `eprintln!`, and a skip must be seen.
        use std::io::Write;
        let line = "!".repeat(78);
        let _ = writeln!(
            std::io::stderr(),
            "{line}\nSKIPPED: chromium is missing, so this test did NOT run.\n  {install}\n{line}"
        );
    }
    found
}

/// The browser and its helpers, in a process group of their own; dropping it ends the group
/// and removes the profile.
pub struct Browser {
    child: Child,
    profile: PathBuf,
}

impl Browser {
    /// Starts headless Chromium on `url`, with a fresh profile.
    pub fn open(binary: &PathBuf, url: &str) -> Browser {
        use std::os::unix::process::CommandExt;
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        let profile = std::env::temp_dir().join(format!(
            "sse-proto-io-chromium-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&profile).unwrap();
        let child = Command::new(binary)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
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
        // helpers it started, nothing else.
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
