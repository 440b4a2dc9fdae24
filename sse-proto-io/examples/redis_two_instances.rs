//! docs/redis.md's program: run it twice (PORT=3001, PORT=3002) against one Redis.
use axum::{
    extract::State,
    http::{HeaderMap, StatusCode},
    response::IntoResponse,
    routing::{get, post},
    Router,
};
use sse_proto::{Event, Frame};
use sse_proto_io::server::{last_event_id, RedisConfig, RedisHub};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let hub = RedisHub::connect("redis://127.0.0.1:6379", RedisConfig::new("news")).await?;
    let app = Router::new()
        .route("/events", get(events))
        .route("/publish", post(publish))
        .with_state(hub);
    let port = std::env::var("PORT").unwrap_or_else(|_| "3001".into());
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await?;
    axum::serve(listener, app).await?;
    Ok(())
}

async fn events(State(hub): State<RedisHub>, headers: HeaderMap) -> axum::response::Response {
    // What a new client, or one whose id is unknown, gets first.
    let state = || {
        vec![Frame::from_event(
            &Event::builder().event("state").data("{}").build().unwrap(),
        )]
    };
    match hub.subscribe_with(last_event_id(&headers), state).await {
        // `into_sse`: when this instance can no longer vouch for its feed, the body sends a
        // short `retry:` and closes, and the client comes back with its Last-Event-ID.
        Ok(subscription) => subscription.into_sse().into_response(),
        Err(_) => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

async fn publish(State(hub): State<RedisHub>, body: String) -> impl IntoResponse {
    match hub.publish(&Event::new(body)).await {
        Ok(id) => (StatusCode::OK, id),
        Err(error) => (StatusCode::SERVICE_UNAVAILABLE, error.to_string()),
    }
}
