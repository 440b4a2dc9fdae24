//! `/events/script` and `/report`: the tests' fixed sequence ([`crate::script`]), cut in the
//! middle of an event on a first connection and resumed after `Last-Event-ID`, and where the
//! pages post back what their EventSource saw.

use std::io;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use bytes::Bytes;
use futures_util::{stream, Stream, StreamExt};
use sse_proto::Frame;
use sse_proto_io::server::{last_event_id, Raw};
use tokio::sync::Notify;

use super::{respond, App, StreamRequest};
use crate::script;

/// A connection to `/events/script`, as the server saw it.
#[derive(Clone, Debug)]
pub struct ScriptConnection {
    /// The `Last-Event-ID` it carried.
    pub last_event_id: Option<String>,
    /// When it arrived.
    pub at: Instant,
}

/// What `/events/script` and `/report` saw, for the tests.
#[derive(Debug, Default)]
pub struct ScriptLog {
    connections: Mutex<Vec<ScriptConnection>>,
    cut_at: Mutex<Option<Instant>>,
    reports: Mutex<Vec<serde_json::Value>>,
    reported: Notify,
}

impl ScriptLog {
    /// Every connection so far.
    pub fn connections(&self) -> Vec<ScriptConnection> {
        self.connections.lock().unwrap().clone()
    }

    /// When the server last dropped a script connection mid-event.
    pub fn cut_at(&self) -> Option<Instant> {
        *self.cut_at.lock().unwrap()
    }

    /// Waits for the next report a page posts to `/report`.
    pub async fn next_report(&self) -> serde_json::Value {
        loop {
            let notified = self.reported.notified();
            if let Some(report) = self.reports.lock().unwrap().pop() {
                return report;
            }
            notified.await;
        }
    }
}

pub(super) async fn stream(State(app): State<Arc<App>>, request: StreamRequest) -> Response {
    let last = last_event_id(&request.headers).map(str::to_owned);
    let resume_at = last.as_deref().and_then(script::resume_index);
    app.script
        .connections
        .lock()
        .unwrap()
        .push(ScriptConnection {
            last_event_id: last,
            at: Instant::now(),
        });
    let items = script::items();
    let (start, end) = match resume_at {
        Some(start) => (start, items.len()),
        None => (0, script::cut_index()),
    };
    // Raw bytes throughout: the whole items' frames, then (on a first connection) the half
    // event that no frame can be.
    let whole: Vec<io::Result<Raw>> = items[start..end]
        .iter()
        .map(|item| Ok(Raw(Frame::from_message(item).into_bytes())))
        .collect();
    let whole = stream::iter(whole);
    let stream = if resume_at.is_some() {
        // Resumed: the rest, then keep-alives until shutdown.
        whole.chain(stream::pending()).boxed()
    } else {
        whole.chain(cut(app.clone())).boxed()
    };
    respond(&app, request, None, stream)
}

/// Half an event, a pause (so hyper flushes it: it closes at once on an error), then an
/// error, which drops the connection without ending the response.
fn cut(app: Arc<App>) -> impl Stream<Item = io::Result<Raw>> + Send {
    let half = stream::iter([Ok(Raw(Bytes::from_static(script::CUT_PARTIAL)))]);
    let abort = stream::once(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        *app.script.cut_at.lock().unwrap() = Some(Instant::now());
        Err(io::Error::new(
            io::ErrorKind::ConnectionAborted,
            "cut on purpose",
        ))
    });
    half.chain(abort)
}

pub(super) async fn report(
    State(app): State<Arc<App>>,
    Json(report): Json<serde_json::Value>,
) -> StatusCode {
    app.script.reports.lock().unwrap().push(report);
    app.script.reported.notify_waiters();
    StatusCode::NO_CONTENT
}
