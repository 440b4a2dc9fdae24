//! What `serve` and `replay` share: a loopback HTTP/1.1 listener that answers every request
//! with a handler's response, one task per connection, printing its URL first.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;

use hyper::body::{Body, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;

/// Binds `addr` (port 0: a free one), prints `program: serving on http://ADDR/` on stderr
/// (what scripts and tests wait for), and serves every connection with `handle` until the
/// future ends (it does not, short of an error) or the process does.
pub async fn serve<F, Fut, B>(program: &str, addr: SocketAddr, handle: F) -> std::io::Result<()>
where
    F: Fn(http::Request<Incoming>) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = http::Response<B>> + Send + 'static,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let listener = tokio::net::TcpListener::bind(addr).await?;
    eprintln!("{program}: serving on http://{}/", listener.local_addr()?);
    loop {
        let (socket, _) = listener.accept().await?;
        let _ = socket.set_nodelay(true);
        let handle = handle.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let response = handle(request);
                async move { Ok::<_, Infallible>(response.await) }
            });
            // A client that goes away ends its connection; nothing to report.
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(socket), service)
                .await;
        });
    }
}

/// The `--bind`/`--port` options of the servers.
#[derive(clap::Args, Debug, Clone)]
pub struct ListenArgs {
    /// The port to listen on (0: a free one, printed at start).
    #[arg(short = 'p', long, default_value_t = 0)]
    pub port: u16,
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: std::net::IpAddr,
}

impl ListenArgs {
    /// The socket address these options name.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::new(self.bind, self.port)
    }
}
