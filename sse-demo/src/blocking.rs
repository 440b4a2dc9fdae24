//! A blocking EventSource on `std::net` alone (what Python's sseclient does), for scripts
//! and small systems: an iterator of events over plain `http://` with HTTP/1.1, chunked or
//! not, reconnecting with `Last-Event-ID` after the server's `retry:`, with a read-idle
//! timeout from the socket's read timeout.
//!
//! No TLS, no proxies, no redirects: put it behind a local TLS terminator, or use the async
//! client ([`crate::client`]) for those.
//!
//! ```no_run
//! use sse_demo::blocking::{EventSource, Incoming};
//!
//! let mut source = EventSource::new("http://127.0.0.1:8080/events/weather")?;
//! for next in &mut source {
//!     if let Ok(Incoming::Event(event)) = next {
//!         println!("{}: {}", event.event_type(), event.data());
//!     }
//! }
//! # Ok::<(), std::io::Error>(())
//! ```

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use std::collections::VecDeque;

use sse_proto::{Action, Client, ClientConfig, Request};

use crate::client::Jitter;
pub use crate::client::{Fatal, Incoming, Options};

/// An `http://host[:port]/path` URL, split.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpUrl {
    /// Host name or address (IPv6 without brackets).
    pub host: String,
    /// Port (80 when not given).
    pub port: u16,
    /// Path and query, starting with `/`.
    pub target: String,
}

impl HttpUrl {
    /// Splits `url`; only `http://` is supported.
    pub fn parse(url: &str) -> io::Result<Self> {
        let bad = |why: &str| io::Error::new(io::ErrorKind::InvalidInput, format!("{url}: {why}"));
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| bad("only http:// URLs are supported"))?;
        let (authority, target) = match rest.find('/') {
            Some(slash) => (&rest[..slash], &rest[slash..]),
            None => (rest, "/"),
        };
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (host, after) = v6.split_once(']').ok_or_else(|| bad("unclosed ["))?;
            (host, after.strip_prefix(':'))
        } else {
            match authority.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (authority, None),
            }
        };
        let port = match port {
            Some(port) => port.parse().map_err(|_| bad("bad port"))?,
            None => 80,
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        Ok(HttpUrl {
            host: host.to_owned(),
            port,
            target: target.to_owned(),
        })
    }

    fn host_header(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == 80 {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }
}

/// A blocking EventSource; iterate over it. The iterator ends once the source is closed
/// (after a fatal error, which it yields first, or [`close`](Self::close)).
pub struct EventSource {
    url: HttpUrl,
    options: Options,
    client: Client,
    jitter: Jitter,
    queue: VecDeque<Incoming>,
    /// The request to send once `poll` says how long to wait for its answer.
    pending: Option<Request>,
    /// The socket (to set its read timeout) and the body being read.
    body: Option<(TcpStream, Body)>,
    buf: Vec<u8>,
    sent_id: Option<String>,
    detail: Option<String>,
    /// When the transport reported that failure: the wait is reported from then.
    lost_at: Option<Instant>,
    failure: Option<Fatal>,
    done: bool,
}

impl EventSource {
    /// A source for `url` with default options.
    pub fn new(url: &str) -> io::Result<Self> {
        Self::with_options(url, Options::default())
    }

    /// A source for `url`.
    pub fn with_options(url: &str, options: Options) -> io::Result<Self> {
        let (client, failure) = match options.client() {
            Ok(client) => (client, None),
            Err(fatal) => {
                let mut client = Client::new(ClientConfig::default());
                client.close();
                (client, Some(fatal))
            }
        };
        Ok(EventSource {
            url: HttpUrl::parse(url)?,
            options,
            client,
            jitter: Jitter::default(),
            queue: VecDeque::new(),
            pending: None,
            body: None,
            buf: vec![0; 16 * 1024],
            sent_id: None,
            detail: None,
            lost_at: None,
            failure,
            done: false,
        })
    }

    /// The last event ID.
    pub fn last_event_id(&self) -> Option<&str> {
        Some(self.client.last_event_id()).filter(|id| !id.is_empty())
    }

    /// Closes the source for good.
    pub fn close(&mut self) {
        self.client.close();
        self.queue.clear();
        self.body = None;
        self.done = true;
    }

    /// Connects, writes the request and reads the response head, waiting for the head no
    /// longer than `deadline`; hands the head to the client.
    fn send(&mut self, request: Request, deadline: Option<Instant>) {
        let result = (|| -> io::Result<(TcpStream, Head, Body)> {
            let addrs = (self.url.host.as_str(), self.url.port).to_socket_addrs()?;
            let mut last_error = io::Error::new(io::ErrorKind::NotFound, "no address");
            let mut stream = None;
            for addr in addrs {
                match TcpStream::connect_timeout(&addr, self.options.connect_timeout) {
                    Ok(s) => {
                        stream = Some(s);
                        break;
                    }
                    Err(error) => last_error = error,
                }
            }
            let mut stream = stream.ok_or(last_error)?;
            stream.set_nodelay(true)?;
            stream.set_read_timeout(time_left(deadline))?;
            let mut head = format!(
                "{} {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: sse-demo-blocking\r\n",
                request.method(),
                self.url.target,
                self.url.host_header()
            );
            for (name, value) in request.headers() {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
            if !request.body().is_empty() || request.method() != "GET" {
                head.push_str(&format!("Content-Length: {}\r\n", request.body().len()));
            }
            head.push_str("\r\n");
            stream.write_all(head.as_bytes())?;
            stream.write_all(request.body())?;
            let socket = stream.try_clone()?;
            let mut reader = BufReader::new(stream);
            let head = read_head(&mut reader)?;
            let body = if head.chunked {
                Body::Chunked(Chunked::new(reader))
            } else if let Some(len) = head.content_length {
                Body::Limited(reader.take(len))
            } else {
                Body::UntilClose(reader)
            };
            Ok((socket, head, body))
        })();
        let now = Instant::now();
        match result {
            Ok((socket, head, body)) => {
                let opened = self.client.handle_response(
                    now,
                    head.status,
                    head.content_type.as_deref(),
                    head.retry_after.as_deref(),
                );
                if opened.is_ok() {
                    self.body = Some((socket, body));
                }
            }
            Err(error) if is_timeout(&error) => sleep_until(deadline),
            Err(error) => self.disconnect(now, Some(error.to_string())),
        }
    }

    fn disconnect(&mut self, now: Instant, detail: Option<String>) {
        self.body = None;
        self.detail = detail;
        self.lost_at = Some(now);
        self.client.handle_disconnect(now);
    }
}

/// The socket read timeout that ends at `deadline` (`None`: block). Never zero, which
/// `set_read_timeout` refuses.
fn time_left(deadline: Option<Instant>) -> Option<Duration> {
    deadline.map(|deadline| {
        deadline
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(1))
    })
}

/// After a socket read timed out: make sure the deadline has passed, so the next poll fires
/// it (socket timeouts may end a hair early).
fn sleep_until(deadline: Option<Instant>) {
    if let Some(deadline) = deadline {
        std::thread::sleep(deadline.saturating_duration_since(Instant::now()));
    }
}

fn is_timeout(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

impl Iterator for EventSource {
    type Item = Result<Incoming, Fatal>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(incoming) = self.queue.pop_front() {
                return Some(Ok(incoming));
            }
            if let Some(fatal) = self.failure.take() {
                self.done = true;
                return Some(Err(fatal));
            }
            if self.done {
                return None;
            }
            let now = Instant::now();
            match self.client.poll(now, self.jitter.next()) {
                Action::Send(request) => {
                    self.body = None;
                    self.sent_id = request.last_event_id().map(str::to_owned);
                    self.pending = Some(request);
                }
                Action::Signal(signal) => {
                    let detail = self.detail.take();
                    let at = self.lost_at.take().unwrap_or(now);
                    if let Some(incoming) =
                        Incoming::from_signal(signal, at, &mut self.sent_id, detail)
                    {
                        return Some(Ok(incoming));
                    }
                }
                Action::AwaitResponse { deadline } => match self.pending.take() {
                    Some(request) => self.send(request, deadline),
                    // Timed out waiting for the head: the deadline fires at the next poll.
                    None => sleep_until(deadline),
                },
                Action::ReadBody { deadline } => {
                    let Some((socket, body)) = self.body.as_mut() else {
                        self.client.restart(now);
                        continue;
                    };
                    if let Err(error) = socket.set_read_timeout(time_left(deadline)) {
                        self.disconnect(now, Some(error.to_string()));
                        continue;
                    }
                    match body.read(&mut self.buf) {
                        Ok(0) => self.disconnect(Instant::now(), None),
                        Ok(n) => {
                            let steps = self.client.feed(Instant::now(), &self.buf[..n]);
                            self.queue.extend(steps.filter_map(Incoming::from_step));
                        }
                        Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                        Err(error) if is_timeout(&error) => sleep_until(deadline),
                        Err(error) => self.disconnect(Instant::now(), Some(error.to_string())),
                    }
                }
                Action::Wait { until } => sleep_until(Some(until)),
                Action::Closed(reason) => {
                    self.body = None;
                    self.failure = Fatal::of(&reason);
                    self.done = true;
                }
            }
        }
    }
}

struct Head {
    status: u16,
    content_type: Option<Vec<u8>>,
    retry_after: Option<Vec<u8>>,
    chunked: bool,
    content_length: Option<u64>,
}

/// Most bytes of a response head (status line and headers) accepted.
const MAX_HEAD: usize = 64 * 1024;

fn read_head(reader: &mut impl BufRead) -> io::Result<Head> {
    let invalid = |why: &str| io::Error::new(io::ErrorKind::InvalidData, why.to_owned());
    let mut line = Vec::new();
    let mut total = 0;
    let mut next_line = |line: &mut Vec<u8>| -> io::Result<()> {
        line.clear();
        let n = reader
            .take((MAX_HEAD - total) as u64)
            .read_until(b'\n', line)?;
        total += n;
        if n == 0 || !line.ends_with(b"\n") {
            return Err(invalid("the response head ended early or is too long"));
        }
        while line.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
            line.pop();
        }
        Ok(())
    };
    next_line(&mut line)?;
    // "HTTP/1.1 200 OK"
    let status = line
        .split(|b| *b == b' ')
        .nth(1)
        .and_then(|code| std::str::from_utf8(code).ok())
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| invalid("bad status line"))?;
    let mut head = Head {
        status,
        content_type: None,
        retry_after: None,
        chunked: false,
        content_length: None,
    };
    loop {
        next_line(&mut line)?;
        if line.is_empty() {
            return Ok(head);
        }
        let Some(colon) = line.iter().position(|b| *b == b':') else {
            continue;
        };
        let name = line[..colon].trim_ascii();
        let value = line[colon + 1..].trim_ascii();
        if name.eq_ignore_ascii_case(b"content-type") {
            head.content_type = Some(value.to_vec());
        } else if name.eq_ignore_ascii_case(b"retry-after") {
            head.retry_after = Some(value.to_vec());
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            head.chunked = value
                .split(|b| *b == b',')
                .any(|coding| coding.trim_ascii().eq_ignore_ascii_case(b"chunked"));
        } else if name.eq_ignore_ascii_case(b"content-length") {
            head.content_length = std::str::from_utf8(value).ok().and_then(|v| v.parse().ok());
        }
    }
}

enum Body {
    Chunked(Chunked<BufReader<TcpStream>>),
    Limited(io::Take<BufReader<TcpStream>>),
    UntilClose(BufReader<TcpStream>),
}

impl Read for Body {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Body::Chunked(r) => r.read(buf),
            Body::Limited(r) => r.read(buf),
            Body::UntilClose(r) => r.read(buf),
        }
    }
}

/// HTTP/1.1 chunked transfer decoding.
struct Chunked<R> {
    inner: R,
    /// Bytes left in the current chunk; `None` before a size line.
    left: Option<u64>,
    done: bool,
}

impl<R: BufRead> Chunked<R> {
    fn new(inner: R) -> Self {
        Chunked {
            inner,
            left: None,
            done: false,
        }
    }

    fn line(&mut self) -> io::Result<Vec<u8>> {
        let mut line = Vec::new();
        let n = (&mut self.inner).take(4096).read_until(b'\n', &mut line)?;
        if n == 0 || !line.ends_with(b"\n") {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the connection closed inside a chunked body",
            ));
        }
        while line.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
            line.pop();
        }
        Ok(line)
    }
}

impl<R: BufRead> Read for Chunked<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.done || buf.is_empty() {
                return Ok(0);
            }
            match self.left {
                None => {
                    let line = self.line()?;
                    let size = line.split(|b| *b == b';').next().unwrap_or(b"");
                    let size = std::str::from_utf8(size.trim_ascii())
                        .ok()
                        .and_then(|s| u64::from_str_radix(s, 16).ok())
                        .ok_or_else(|| {
                            io::Error::new(io::ErrorKind::InvalidData, "bad chunk size")
                        })?;
                    if size == 0 {
                        // Trailers, up to the empty line.
                        while !self.line()?.is_empty() {}
                        self.done = true;
                        return Ok(0);
                    }
                    self.left = Some(size);
                }
                Some(0) => {
                    if !self.line()?.is_empty() {
                        return Err(io::Error::new(
                            io::ErrorKind::InvalidData,
                            "chunk not followed by CRLF",
                        ));
                    }
                    self.left = None;
                }
                Some(left) => {
                    let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
                    let n = self.inner.read(&mut buf[..want])?;
                    if n == 0 {
                        return Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "the connection closed inside a chunk",
                        ));
                    }
                    self.left = Some(left - n as u64);
                    return Ok(n);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let url = HttpUrl::parse("http://127.0.0.1:8080/events?x=1").unwrap();
        assert_eq!(
            (url.host.as_str(), url.port, url.target.as_str()),
            ("127.0.0.1", 8080, "/events?x=1")
        );
        let url = HttpUrl::parse("http://[::1]:9/").unwrap();
        assert_eq!(
            (url.host.as_str(), url.port, url.host_header()),
            ("::1", 9, "[::1]:9".to_owned())
        );
        let url = HttpUrl::parse("http://example.org").unwrap();
        assert_eq!(
            (url.port, url.target.as_str(), url.host_header()),
            (80, "/", "example.org".to_owned())
        );
        assert!(HttpUrl::parse("https://example.org/").is_err());
    }

    #[test]
    fn chunked_at_every_split() {
        let wire = b"5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nTrailer: x\r\n\r\n";
        for read_size in 1..wire.len() {
            let mut decoder = Chunked::new(BufReader::with_capacity(read_size, &wire[..]));
            let mut out = Vec::new();
            let mut buf = [0; 3];
            loop {
                let n = decoder.read(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                out.extend_from_slice(&buf[..n]);
            }
            assert_eq!(out, b"hello, world");
        }
    }

    #[test]
    fn chunked_cut_is_an_error() {
        let mut decoder = Chunked::new(BufReader::new(&b"5\r\nhel"[..]));
        let mut out = Vec::new();
        assert!(decoder.read_to_end(&mut out).is_err());
    }
}
