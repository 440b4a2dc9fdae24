//! The accept loop: hyper-util connections, each with a
//! [`Watchdog`](sse_proto_io::server::Watchdog) that drops it when its client stops
//! reading, drained gracefully at shutdown.

use std::convert::Infallible;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use axum::http::Request;
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::graceful::GracefulShutdown;
use sse_proto_io::server::Watchdog;
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::{stopped, App};

/// Serves `router` on `listener` until shutdown begins, then waits for the connections to
/// close (at most the grace period).
pub(super) async fn serve(
    listener: TcpListener,
    router: Router,
    mut shutdown: watch::Receiver<bool>,
    app: Arc<App>,
) {
    let config = &app.config;
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    builder.http1().max_buf_size(config.write_buffer.max(8192));
    let graceful = GracefulShutdown::new();
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => stream,
                Err(error) => {
                    // Out of file descriptors, most likely: back off instead of spinning.
                    if config.log {
                        eprintln!("accept failed: {error}");
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stopped(&mut shutdown) => break,
        };
        let _ = stream.set_nodelay(true);
        if let Some(size) = config.send_buffer {
            let _ = socket2::SockRef::from(&stream).set_send_buffer_size(size);
        }
        // One watchdog per connection, handed to its stream handlers as an extension.
        let watchdog = Watchdog::new(config.send_timeout);
        let (for_requests, router) = (watchdog.clone(), router.clone());
        let service = hyper::service::service_fn(move |mut request: Request<_>| {
            request.extensions_mut().insert(for_requests.clone());
            let mut router = router.clone();
            async move {
                let response: Result<_, Infallible> =
                    tower_service::Service::call(&mut router, request).await;
                response
            }
        });
        let connection = builder.serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection.into_owned());
        let app = app.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = connection => {}
                stalled = watchdog.stalled() => {
                    // Dropping the connection closes the socket.
                    app.stats.stalled.fetch_add(1, Ordering::Relaxed);
                    if app.config.log {
                        eprintln!("dropped a stalled client: {} bytes untaken for {:?}", stalled.pending, app.config.send_timeout);
                    }
                }
            }
        });
    }
    drop(listener);
    if config.log {
        eprintln!(
            "shutting down: waiting for {} connection(s)",
            graceful.count()
        );
    }
    let drained = tokio::time::timeout(config.shutdown_grace, graceful.shutdown()).await;
    if drained.is_err() && config.log {
        eprintln!("shutdown grace period over: closing the rest");
    }
}
