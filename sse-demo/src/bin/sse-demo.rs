//! The demo server: `cargo run -p sse-demo --bin sse-demo [PORT]`, then open the printed URL.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::time::Duration;

use sse_demo::server::{self, Config};

const USAGE: &str = "\
usage: sse-demo [PORT] [options]

Serves the sse-proto demo on http://127.0.0.1:PORT/ (PORT 8080 by default; 0 picks a free one).

options:
  --bind ADDR            listen on ADDR instead of 127.0.0.1
  --weather-ms N         weather broadcast period in milliseconds (default 2000)
  --keep-alive-s N       keep-alive ping after N idle seconds (default 15)
  --send-timeout-s N     drop a client that reads nothing for N seconds (default 30)
  --redis URL            run the weather on the Redis stream at URL (redis://127.0.0.1/),
                         shared with every instance on it: run two, open both pages
  --quiet                log nothing but the URL
";

fn main() -> ExitCode {
    let mut config = Config {
        log: true,
        ..Config::default()
    };
    let mut port: u16 = 8080;
    let mut ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| -> Result<u64, String> {
            let v = args.next().ok_or(format!("{name} needs a value"))?;
            v.parse().map_err(|_| format!("{name}: not a number: {v}"))
        };
        let parsed = match arg.as_str() {
            "-h" | "--help" => {
                print!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            "--bind" => match args.next().map(|a| a.parse()) {
                Some(Ok(addr)) => {
                    ip = addr;
                    Ok(())
                }
                _ => Err("--bind needs an IP address".to_owned()),
            },
            "--weather-ms" => {
                value(&arg).map(|n| config.weather_every = Duration::from_millis(n.max(1)))
            }
            "--keep-alive-s" => {
                value(&arg).map(|n| config.keep_alive = Duration::from_secs(n.max(1)))
            }
            "--send-timeout-s" => {
                value(&arg).map(|n| config.send_timeout = Duration::from_secs(n.max(1)))
            }
            "--redis" => match args.next() {
                Some(url) => {
                    config.redis = Some(url);
                    Ok(())
                }
                None => Err("--redis needs a URL".to_owned()),
            },
            "--quiet" => {
                config.log = false;
                Ok(())
            }
            other => other
                .parse()
                .map(|p| port = p)
                .map_err(|_| format!("unknown argument: {other}")),
        };
        if let Err(message) = parsed {
            eprintln!("sse-demo: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    }
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    runtime.block_on(async move {
        let running = match server::start(SocketAddr::new(ip, port), config).await {
            Ok(running) => running,
            Err(error) => {
                eprintln!("sse-demo: cannot start on {ip}:{port}: {error}");
                return ExitCode::FAILURE;
            }
        };
        println!("sse-demo: serving on {} (Ctrl-C to stop)", running.url());
        wait_for_signal().await;
        let streams = running
            .app
            .stats
            .streams
            .load(std::sync::atomic::Ordering::Relaxed);
        eprintln!("sse-demo: shutting down, ending {streams} stream(s)");
        running.shutdown().await;
        eprintln!("sse-demo: stopped");
        ExitCode::SUCCESS
    })
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate()).expect("a SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}
