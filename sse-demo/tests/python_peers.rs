//! The Python servers our users come from, as real peers on 127.0.0.1: aiohttp-sse (on
//! aiohttp) and sse-starlette (on Starlette and uvicorn) send the fixed sequence of
//! `peers/sequence.py` through their own APIs, with their default CRLF line endings and
//! their pings; both of our clients must receive exactly what they meant to send, across the
//! reconnection the sequence asks for.
//!
//! The peers run from a virtual environment: `SSE_DEMO_PYTHON` names its interpreter, by
//! default `~/.cache/sse-demo/venv/bin/python` (what `sse-demo/ci.sh` makes). Without it the
//! tests say loudly that they did not run; with `CI=true` they fail.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use futures_util::StreamExt;
use serde_json::Value;
use sse_demo::script::Seen;
use sse_proto_io::{Error, Incoming};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

mod common;

const LIMIT: Duration = Duration::from_secs(30);

fn python() -> Option<PathBuf> {
    let python = match std::env::var_os("SSE_DEMO_PYTHON") {
        Some(path) => PathBuf::from(path),
        None => PathBuf::from(std::env::var_os("HOME")?).join(".cache/sse-demo/venv/bin/python"),
    };
    let has_peers = std::process::Command::new(&python)
        .args([
            "-c",
            "import aiohttp, aiohttp_sse, sse_starlette, starlette, uvicorn",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    has_peers.then_some(python)
}

/// A peer script, running; its standard input open until the test is done.
struct Peer {
    child: Child,
    url: String,
    sent: Vec<Value>,
}

impl Peer {
    async fn start(python: &Path, script: &str) -> Peer {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("peers")
            .join(script);
        let mut child = Command::new(python)
            .arg(&path)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start the peer");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(LIMIT, lines.next_line())
            .await
            .expect("the peer announced itself in time")
            .unwrap()
            .expect("the peer printed its announcement");
        let announcement: Value = serde_json::from_str(&line).unwrap();
        Peer {
            child,
            url: announcement["url"].as_str().unwrap().to_owned(),
            sent: announcement["sent"].as_array().unwrap().clone(),
        }
    }

    /// Closes its standard input (it stops by itself) and waits for it.
    async fn stop(mut self) {
        drop(self.child.stdin.take());
        if tokio::time::timeout(Duration::from_secs(10), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
    }

    /// The events a receiver must see: type, data with the peer's CR / CRLF turned into LF
    /// (they write one `data:` line per line; that is the protocol), and the lastEventId in
    /// force.
    fn expected_events(&self) -> Vec<Seen> {
        let mut last_event_id = String::new();
        let mut seen = Vec::new();
        for item in &self.sent {
            if let Some(id) = item["id"].as_str() {
                last_event_id = id.to_owned();
            }
            if let Some(data) = item["data"].as_str() {
                seen.push(Seen {
                    event: item["event"].as_str().unwrap_or("message").to_owned(),
                    data: data.replace("\r\n", "\n").replace('\r', "\n"),
                    last_event_id: last_event_id.clone(),
                });
            }
        }
        seen
    }

    fn expected_retries(&self) -> Vec<Duration> {
        self.sent
            .iter()
            .filter_map(|item| item["retry"].as_u64())
            .map(Duration::from_millis)
            .collect()
    }

    fn expected_comments(&self) -> Vec<String> {
        self.sent
            .iter()
            .filter_map(|item| item["comment"].as_str().map(str::to_owned))
            .collect()
    }

    /// Checks what a client reported against what the peer meant to send.
    fn check(&self, client: &str, log: &[common::Item]) {
        let mut events = Vec::new();
        let mut retries = Vec::new();
        let mut comments = Vec::new();
        let mut opens = Vec::new();
        for item in log {
            match item {
                Ok(Incoming::Event(event)) => events.push(Seen::of(event)),
                Ok(Incoming::Retry(delay)) => retries.push(*delay),
                Ok(Incoming::Comment(text)) => comments.push(text.to_string()),
                Ok(Incoming::Open { last_event_id }) => opens.push(last_event_id.clone()),
                Ok(other) => panic!("{client}: unexpected {other:?}"),
                Err(Error::Reconnecting { .. }) => {}
                Err(error) => panic!("{client}: {error}"),
            }
        }
        assert_eq!(events, self.expected_events(), "{client}: the events");
        assert_eq!(retries, self.expected_retries(), "{client}: the retries");
        assert_eq!(
            opens,
            [None, Some("4".to_owned())],
            "{client}: reconnected once, with Last-Event-ID"
        );
        let pings = comments.iter().filter(|c| c.starts_with("ping")).count();
        assert!(pings >= 1, "{client}: no ping among {comments:?}");
        let others: Vec<_> = comments
            .into_iter()
            .filter(|c| !c.starts_with("ping"))
            .collect();
        assert_eq!(others, self.expected_comments(), "{client}: the comments");
        eprintln!(
            "{client}: {} events, {pings} pings, one reconnection: as sent",
            events.len()
        );
    }

    /// The first bytes of the stream, read raw: the peer really ends lines with CRLF.
    fn check_crlf(&self) {
        let uri: http::Uri = self.url.parse().unwrap();
        let authority = uri.authority().expect("an http:// URL with a host");
        let mut stream = std::net::TcpStream::connect(authority.as_str()).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        write!(
            stream,
            "GET {} HTTP/1.1\r\nHost: {authority}\r\nAccept: text/event-stream\r\n\r\n",
            uri.path_and_query().map_or("/", |p| p.as_str()),
        )
        .unwrap();
        let mut received = Vec::new();
        let mut buf = [0; 4096];
        while !received.windows(13).any(|w| w == b"data: hello\r\n") {
            let n = stream.read(&mut buf).expect("the first event in time");
            assert!(n > 0, "the stream ended early");
            received.extend_from_slice(&buf[..n]);
        }
    }
}

/// Logs one item; `true` once the `end` event is in.
fn log_until_end(log: &mut Vec<common::Item>, item: common::Item) -> bool {
    let end = common::is_event_of_type(&item, "end");
    log.push(item);
    end
}

async fn receive_async(url: &str) -> Vec<common::Item> {
    let mut source = common::async_source(url, common::client_config());
    let mut log = Vec::new();
    while let Some(item) = source.next().await {
        if log_until_end(&mut log, item) {
            break;
        }
    }
    log
}

fn receive_blocking(url: &str) -> Vec<common::Item> {
    let source = common::blocking_source(url, common::client_config());
    let mut log = Vec::new();
    for item in source {
        if log_until_end(&mut log, item) {
            break;
        }
    }
    log
}

async fn against(script: &str) {
    let Some(python) = python() else {
        common::missing_peer(
            "a Python venv with aiohttp-sse and sse-starlette",
            "run sse-demo/ci.sh, or set SSE_DEMO_PYTHON to a python that has aiohttp, \
             aiohttp-sse, sse-starlette, starlette and uvicorn",
        );
        return;
    };
    let peer = Peer::start(&python, script).await;
    peer.check_crlf();

    let log = tokio::time::timeout(LIMIT, receive_async(&peer.url))
        .await
        .expect("the async client got to the end in time");
    peer.check(&format!("{script} -> async client"), &log);

    let url = peer.url.clone();
    let log = tokio::time::timeout(
        LIMIT,
        tokio::task::spawn_blocking(move || receive_blocking(&url)),
    )
    .await
    .expect("the blocking client got to the end in time")
    .unwrap();
    peer.check(&format!("{script} -> blocking client"), &log);
    peer.stop().await;
}

#[tokio::test]
async fn aiohttp_sse() {
    against("aiohttp_sse_server.py").await;
}

#[tokio::test]
async fn sse_starlette() {
    against("sse_starlette_server.py").await;
}
