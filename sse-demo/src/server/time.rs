//! `/events/time`: the server time every second, one generator per client (aiohttp-sse's
//! quickstart).

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::State;
use axum::response::Response;
use futures_util::stream;
use sse_proto::Event;

use super::{respond, App, StreamRequest};

pub(super) async fn stream(State(app): State<Arc<App>>, request: StreamRequest) -> Response {
    let mut tick = tokio::time::interval(app.config.tick);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let times = stream::unfold(tick, |mut tick| async move {
        tick.tick().await;
        Some((Event::new(format!("Server Time : {}", utc_now())), tick))
    });
    respond(&app, request, Some(app.config.retry), times)
}

/// Now as `YYYY-MM-DD HH:MM:SS UTC` (no date crate needed).
pub fn utc_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}
