//! The Python clients our users come from, reading our server on 127.0.0.1: aiohttp-sse-client
//! (async, on aiohttp) and sseclient-py (blocking) resume the weather broadcast after a
//! `Last-Event-ID` and must get every event after it, in order, as the hub published it.
//!
//! They run from the same virtual environment as `python_peers.rs`'s servers
//! (`SSE_DEMO_PYTHON`, by default `~/.cache/sse-demo/venv/bin/python`, which
//! `sse-demo/ci.sh` makes). Without it the tests say loudly that they did not run; with
//! `CI=true` they fail.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::process::Command;

mod common;

const LIMIT: Duration = Duration::from_secs(30);

/// The interpreter, if it has both clients.
fn python_with_clients() -> Option<PathBuf> {
    let default =
        || Some(PathBuf::from(std::env::var_os("HOME")?).join(".cache/sse-demo/venv/bin/python"));
    let python = std::env::var_os("SSE_DEMO_PYTHON")
        .map(PathBuf::from)
        .or_else(default)?;
    let probe = std::process::Command::new(&python)
        .args(["-c", "import aiohttp_sse_client, sseclient"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    probe.is_ok_and(|status| status.success()).then_some(python)
}

/// What `client` printed: one JSON object per event, `count` of them.
async fn run_client(
    python: &Path,
    client: &str,
    url: &str,
    last_event_id: &str,
    count: usize,
) -> Vec<Value> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("peers/python_clients.py");
    let child = Command::new(python)
        .arg(script)
        .args([client, url, last_event_id, &count.to_string()])
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true) // a client still running when the wait is over is ended
        .spawn()
        .expect("start the Python client");
    let output = tokio::time::timeout(LIMIT, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("{client} got {count} events in time"))
        .expect("the client's output");
    assert!(
        output.status.success(),
        "{client} failed: {:?}",
        output.status
    );
    let text = String::from_utf8(output.stdout).expect("UTF-8 output");
    text.lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect()
}

async fn resumes_the_weather(client: &str) {
    let Some(python) = python_with_clients() else {
        common::missing_peer(
            "a Python with aiohttp-sse-client and sseclient-py",
            "run sse-demo/ci.sh, or set SSE_DEMO_PYTHON to a python that has them",
        );
        return;
    };
    let (server, url) = common::weather_server(10).await;
    let events = run_client(&python, client, &url, "3", 20).await;
    let ids: Vec<u64> = events
        .iter()
        .map(|e| e["id"].as_str().unwrap().parse().unwrap())
        .collect();
    assert_eq!(
        ids,
        (4..24).collect::<Vec<_>>(),
        "{client}: every event after 3, in order"
    );
    for event in &events {
        assert_eq!(event["type"], "weather", "{client}: {event}");
        // Each report's data is JSON whose `n` is its id: the data arrived whole.
        let data: Value = serde_json::from_str(event["data"].as_str().unwrap()).unwrap();
        assert_eq!(
            data["n"].to_string(),
            event["id"].as_str().unwrap(),
            "{client}: {event}"
        );
    }
    server.shutdown().await;
}

#[tokio::test]
async fn aiohttp_sse_client_resumes_the_weather() {
    resumes_the_weather("aiohttp-sse-client").await;
}

#[tokio::test]
async fn sseclient_py_resumes_the_weather() {
    resumes_the_weather("sseclient-py").await;
}
