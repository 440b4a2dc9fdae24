//! `IntoResponse` for [`Sse`]: return it from an axum handler.

use axum_core::body::Body;
use axum_core::response::{IntoResponse, Response};
use futures_core::Stream;

use super::body::{insert_headers, Sse};
use super::item::SseItem;

/// The event-stream response: status 200, the headers of
/// [`sse_proto::response_headers`] for [`Sse::http_version`] (HTTP/1.1 unless set; pass
/// axum's `Version` extractor to it), and the body.
///
/// # Example
///
/// ```
/// use axum_core::response::IntoResponse;
/// use futures_util::stream;
/// use sse_proto::Event;
/// use sse_proto_io::server::Sse;
///
/// async fn handler(version: http::Version) -> impl IntoResponse {
///     Sse::new(stream::iter([Event::new("hello")])).http_version(version)
/// }
/// # let response = futures_executor::block_on(handler(http::Version::HTTP_11)).into_response();
/// # assert_eq!(response.headers()["content-type"], "text/event-stream; charset=utf-8");
/// ```
impl<S> IntoResponse for Sse<S>
where
    S: Stream + Send + 'static,
    S::Item: SseItem + 'static,
{
    fn into_response(self) -> Response {
        let version = self.headers_version();
        let mut response = Response::new(Body::new(self));
        insert_headers(response.headers_mut(), version);
        response
    }
}
