//! A scripted HTTP/1.1 server on 127.0.0.1 for the client tests: each connection gets the
//! next scripted reply, and every request is recorded (head and body), so a test can check
//! what each attempt sent. Every wait in it is bounded.
#![allow(dead_code)] // each test binary uses part of it

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How long any test may wait for anything.
pub const LIMIT: Duration = Duration::from_secs(20);

/// A read timeout for tests whose response head must arrive within it: 200 ms flaked once
/// when CI shared the two cores with other builds (a debug reqwest connection took longer),
/// so a second, with the tests' waits scaled from it.
pub const LOADED_MACHINE_READ_TIMEOUT: Duration = Duration::from_secs(1);

/// What one connection gets.
#[derive(Clone, Debug)]
pub enum Reply {
    /// These bytes, then the connection is closed.
    Close(Vec<u8>),
    /// These bytes, then silence with the connection open (a dead peer).
    Hold(Vec<u8>),
    /// Nothing at all: accepted, never answered.
    Nothing,
}

/// A `200 text/event-stream` head, then `body` (no length: the body ends at close).
pub fn stream(body: &str) -> Vec<u8> {
    format!("HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n{body}")
        .into_bytes()
}

/// A response with this status and no body.
pub fn status(code: u16) -> Vec<u8> {
    format!("HTTP/1.1 {code} Whatever\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
        .into_bytes()
}

/// One request as the server read it.
#[derive(Clone, Debug)]
pub struct Recorded {
    /// The request line.
    pub line: String,
    /// Header names in lower case, with their values.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A running scripted server; stops when dropped.
pub struct Server {
    pub url: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Server {
    /// Connection `i` gets `replies[i]`; connections past the script get a 503.
    pub async fn start(replies: Vec<Reply>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/events", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let recorded = requests.clone();
        let task = tokio::spawn(async move {
            let mut held = Vec::new();
            for n in 0.. {
                let Ok((mut socket, _)) = listener.accept().await else {
                    return;
                };
                let reply = replies.get(n).cloned().unwrap_or(Reply::Close(status(503)));
                if matches!(reply, Reply::Nothing) {
                    held.push(socket);
                    continue;
                }
                match tokio::time::timeout(LIMIT, read_request(&mut socket)).await {
                    Ok(Some(request)) => recorded.lock().unwrap().push(request),
                    _ => continue,
                }
                match reply {
                    Reply::Close(bytes) => {
                        let _ = socket.write_all(&bytes).await;
                        let _ = socket.shutdown().await;
                    }
                    Reply::Hold(bytes) => {
                        let _ = socket.write_all(&bytes).await;
                        held.push(socket);
                    }
                    Reply::Nothing => unreachable!(),
                }
            }
        });
        Server {
            url,
            requests,
            task,
        }
    }

    /// The requests read so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }
}

/// Reads one request: head, then a body of `content-length` bytes.
async fn read_request(socket: &mut TcpStream) -> Option<Recorded> {
    let mut data = Vec::new();
    let mut buf = [0; 4096];
    let head_end = loop {
        if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break end;
        }
        let n = socket.read(&mut buf).await.ok()?;
        if n == 0 || data.len() > 64 * 1024 {
            return None;
        }
        data.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&data[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let line = lines.next()?.to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = data[head_end + 4..].to_vec();
    while body.len() < len {
        let n = socket.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        body.extend_from_slice(&buf[..n]);
    }
    body.truncate(len);
    Some(Recorded {
        line,
        headers,
        body,
    })
}

/// The script both clients' cut-and-resume tests serve: an event, then a cut inside the
/// next one, which the second connection sends whole, then `[DONE]`.
pub fn cut_mid_event() -> Vec<Reply> {
    vec![
        Reply::Close(stream("retry: 20\nid: 1\ndata: a\n\nid: 2\ndata: b")),
        Reply::Close(stream("id: 2\ndata: b\n\ndata: [DONE]\n\n")),
    ]
}

/// Checks that the two attempts of [`cut_mid_event`] sent the same `POST` (this body,
/// these headers, the protocol's headers), the second with `Last-Event-ID: 1`.
pub fn assert_resent(requests: &[Recorded], body: &[u8], headers: &[(&str, &str)]) {
    assert_eq!(requests.len(), 2, "{requests:?}");
    for request in requests {
        assert!(
            request.line.starts_with("POST /events "),
            "{}",
            request.line
        );
        assert_eq!(request.body, body);
        for (name, value) in headers.iter().chain(&[
            ("accept", "text/event-stream"),
            ("cache-control", "no-cache"),
            ("pragma", "no-cache"),
        ]) {
            assert_eq!(request.header(name), Some(*value), "{name}");
        }
    }
    assert_eq!(requests[0].header("last-event-id"), None);
    assert_eq!(requests[1].header("last-event-id"), Some("1"));
}

/// The broadcast hub against a model, shared with the fuzz target `hub_ops`.
#[cfg(feature = "server")]
pub mod hub_ops;
