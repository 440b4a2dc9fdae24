//! The curl-like request options that `cat` and `record` share.

use std::time::Duration;

use clap::Args;

/// How to ask for the stream.
#[derive(Args, Debug, Clone, Default)]
pub struct RequestArgs {
    /// The method (default GET, or POST with a body).
    #[arg(short = 'X', long = "request", value_name = "METHOD")]
    pub method: Option<String>,
    /// A request header, as `Name: value` (repeatable).
    #[arg(short = 'H', long = "header", value_name = "HEADER")]
    pub headers: Vec<String>,
    /// A request body (makes the method POST unless -X says otherwise); @FILE reads a file.
    #[arg(short = 'd', long = "data", value_name = "DATA")]
    pub data: Option<String>,
    /// A JSON request body, sent with `content-type: application/json` (LLM APIs); @FILE reads
    /// a file.
    #[arg(long = "json-data", value_name = "JSON", conflicts_with = "data")]
    pub json_data: Option<String>,
    /// Reconnect (cat) or stop (record) after this many seconds without a byte; 0: never.
    #[arg(long = "idle", value_name = "SECONDS", default_value_t = 45)]
    pub idle: u64,
}

impl RequestArgs {
    /// The read-idle timeout asked for.
    pub fn idle(&self) -> Option<Duration> {
        (self.idle > 0).then(|| Duration::from_secs(self.idle))
    }

    /// A reqwest request for `url` with these options.
    pub fn build(
        &self,
        http: &reqwest::Client,
        url: &str,
    ) -> Result<reqwest::RequestBuilder, String> {
        let body = match (&self.data, &self.json_data) {
            (Some(data), _) | (_, Some(data)) => Some(read_body(data)?),
            (None, None) => None,
        };
        let method = match (&self.method, &body) {
            (Some(method), _) => method.to_ascii_uppercase(),
            (None, Some(_)) => "POST".to_owned(),
            (None, None) => "GET".to_owned(),
        };
        let method = reqwest::Method::from_bytes(method.as_bytes())
            .map_err(|_| format!("not a method: {method}"))?;
        let mut builder = http.request(method, url);
        if self.json_data.is_some() {
            builder = builder.header("content-type", "application/json");
        }
        for header in &self.headers {
            let (name, value) = header
                .split_once(':')
                .ok_or_else(|| format!("a header is Name: value, not {header:?}"))?;
            builder = builder.header(name.trim(), value.trim());
        }
        if let Some(body) = body {
            builder = builder.body(body);
        }
        Ok(builder)
    }
}

fn read_body(data: &str) -> Result<Vec<u8>, String> {
    match data.strip_prefix('@') {
        Some(path) => std::fs::read(path).map_err(|error| format!("{path}: {error}")),
        None => Ok(data.as_bytes().to_vec()),
    }
}
