//! A `redis-server` of a test's own (Debian's package): on a free loopback port, persistence
//! off, killed by its PID when dropped. Without `redis-server` a test fails under `CI=true`
//! and says SKIPPED loudly otherwise. Included by path (`#[path]`) from the Redis tests of
//! `sse-proto-io` and of `sse-demo`, so that both start and stop it the same way.
#![allow(dead_code)] // each test binary uses part of it

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long starting one may take.
const LIMIT: Duration = Duration::from_secs(20);

/// Whether this run is CI's (`CI=true`), where a missing peer is a failure, not a skip.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// A `redis-server` of this test's own, killed (by PID) when dropped.
pub struct Redis {
    child: Child,
    /// Its port on 127.0.0.1.
    pub port: u16,
}

impl Redis {
    /// Starts one on a free loopback port, or `None` (after failing in CI, or saying
    /// SKIPPED loudly) when `redis-server` is not installed.
    pub fn start() -> Option<Redis> {
        if Command::new("redis-server")
            .arg("--version")
            .stdout(Stdio::null())
            .status()
            .is_err()
        {
            let install = "apt-get install -y redis-server (.ci/run does it)";
            assert!(!in_ci(), "redis-server is missing and CI=true: {install}");
            use std::io::Write;
            let line = "!".repeat(78);
            let _ = writeln!(
                std::io::stderr(),
                "{line}\nSKIPPED: redis-server is missing, so this test did NOT run.\n  {install}\n{line}"
            );
            return None;
        }
        let port = free_port();
        Some(Redis::on(port))
    }

    /// Starts one on `port` (a restart reuses the port, so that clients find it again).
    pub fn on(port: u16) -> Redis {
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start redis-server");
        let deadline = Instant::now() + LIMIT;
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not listen");
            std::thread::sleep(Duration::from_millis(20));
        }
        Redis { child, port }
    }

    /// Its URL, for `RedisHub::connect`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// What `redis-cli` answers to `args` on it, trimmed.
    pub fn cli(&self, args: &[&str]) -> String {
        let out = Command::new("redis-cli")
            .args(["-p", &self.port.to_string()])
            .args(args)
            .output()
            .expect("redis-cli");
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// Kills it (SIGKILL, by PID) and waits for it to be gone.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A port nothing listens on now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}
