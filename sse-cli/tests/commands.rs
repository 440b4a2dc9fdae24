//! `sse` as a real process: `cat` against a scripted server (a stream cut mid-event and
//! resumed) and stdin, `lint` over files with their exit codes, `record` then `lint` of the
//! recording, and the help texts.

#[path = "../../sse-proto-io/tests/common/mod.rs"]
mod common;

use std::process::{Command, Output, Stdio};
use std::time::Duration;

use common::{stream, Reply, Server};

const SSE: &str = env!("CARGO_BIN_EXE_sse");

/// Runs `sse args` on a blocking thread, bounded in time, with `stdin` given.
async fn sse(args: &[&str], stdin: &[u8]) -> Output {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let stdin = stdin.to_vec();
    tokio::time::timeout(
        Duration::from_secs(30),
        tokio::task::spawn_blocking(move || {
            use std::io::Write;
            let mut child = Command::new(SSE)
                .args(&args)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("the sse binary runs");
            child.stdin.take().unwrap().write_all(&stdin).unwrap();
            child.wait_with_output().unwrap()
        }),
    )
    .await
    .expect("sse finished in time")
    .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cat_resumes_a_stream_cut_mid_event_and_prints_json_lines() {
    let server = Server::start(vec![
        Reply::Close(stream(
            "retry: 20\nid: 1\nevent: greeting\ndata: hello\n\nid: 2\ndata: cut",
        )),
        Reply::Close(stream("id: 2\ndata: whole\n\ndata: last\n\n")),
    ])
    .await;
    let args = [
        "cat",
        &server.url,
        "--json",
        "--count",
        "3",
        "--color",
        "never",
    ];
    let output = sse(&args, b"").await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    let lines: Vec<serde_json::Value> = text(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let got: Vec<(&str, &str, &str)> = lines
        .iter()
        .map(|l| {
            let field = |name: &str| l[name].as_str().unwrap();
            (field("type"), field("data"), field("id"))
        })
        .collect();
    assert_eq!(
        got,
        [
            ("greeting", "hello", "1"),
            ("message", "whole", "2"),
            ("message", "last", "2")
        ]
    );
    assert_eq!(server.requests()[1].header("last-event-id"), Some("1"));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("3 events") && stderr.contains("1 reconnections"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cat_sends_curl_like_requests() {
    let server = Server::start(vec![Reply::Close(stream("data: [DONE]\n\n"))]).await;
    let args = [
        "cat",
        &server.url,
        "--json-data",
        r#"{"stream":true}"#,
        "-H",
        "Authorization: Bearer k",
        "-n",
        "1",
        "-q",
    ];
    let output = sse(&args, b"").await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout), "message: [DONE]\n");
    let request = &server.requests()[0];
    assert!(request.line.starts_with("POST "), "{}", request.line);
    assert_eq!(request.body, br#"{"stream":true}"#);
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(request.header("authorization"), Some("Bearer k"));
    assert_eq!(request.header("accept"), Some("text/event-stream"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cat_reads_stdin_and_filters_by_type() {
    let output = sse(
        &["cat", "--event", "tick", "--color", "never"],
        b"event: tick\nid: 1\ndata: a\n\ndata: skipped\n\nevent: tick\ndata: b\n\n",
    )
    .await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout), "#1 tick: a\n#1 tick: b\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cat_exits_1_when_the_stream_closes_for_good() {
    let server = Server::start(vec![Reply::Close(common::status(204))]).await;
    let output = sse(&["cat", &server.url, "-q"], b"").await;
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stderr).contains("204"),
        "{}",
        text(&output.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lint_exit_codes_say_what_was_found() {
    let dir = std::env::temp_dir().join(format!("sse-lint-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = |name: &str| dir.join(name).to_str().unwrap().to_owned();
    std::fs::write(path("clean"), "id: 1\ndata: ok\n\n").unwrap();
    std::fs::write(path("warned"), "colour: red\ndata: ok\n\n").unwrap();
    std::fs::write(path("broken"), "Data: lost\n\ndata: never dispatched").unwrap();
    let code = |output: &Output| output.status.code();
    assert_eq!(code(&sse(&["lint", &path("clean")], b"").await), Some(0));
    assert_eq!(code(&sse(&["lint", &path("warned")], b"").await), Some(0));
    let strict = sse(&["lint", "--strict", &path("warned")], b"").await;
    assert_eq!(code(&strict), Some(1));
    let output = sse(&["lint", &path("broken")], b"").await;
    assert_eq!(code(&output), Some(1));
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains("line 1 (byte 0): error: a field name in the wrong case"),
        "{stdout}"
    );
    assert!(
        stdout.contains("line 3 (byte 12): error: the stream ends without a blank line"),
        "{stdout}"
    );
    let from_stdin = sse(&["lint", "-"], b"data: a\r\r\n").await;
    let stdout = text(&from_stdin.stdout);
    assert!(stdout.contains("lone CR"), "{stdout}");
    assert_eq!(code(&sse(&["lint", "/no/such/file"], b"").await), Some(2));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn record_keeps_the_raw_bytes_for_lint() {
    let body = "data: a\r\r\ndata: b\n\nretry: x\n\n";
    let server = Server::start(vec![Reply::Close(stream(body))]).await;
    let file = std::env::temp_dir().join(format!("sse-record-{}.rec", std::process::id()));
    let file = file.to_str().unwrap().to_owned();
    let output = sse(&["record", &server.url, "-o", &file], b"").await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    let recording = std::fs::read(&file).unwrap();
    assert!(recording.starts_with(b"# sse-recording 1"));
    let output = sse(&["lint", &file], b"").await;
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    for want in [
        "lone CR",
        "retry that is not all ASCII digits",
        "no charset=utf-8",
        "id or retry and no data",
    ] {
        assert!(stdout.contains(want), "no {want:?} in {stdout}");
    }
    std::fs::remove_file(&file).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn help_texts_name_every_command_and_option() {
    let help = text(&sse(&["--help"], b"").await.stdout);
    for command in ["cat", "lint", "record"] {
        assert!(help.contains(command), "{help}");
    }
    let help = text(&sse(&["help", "cat"], b"").await.stdout);
    for option in [
        "--json",
        "--event",
        "--idle",
        "--header",
        "--data",
        "--json-data",
        "--last-event-id",
    ] {
        assert!(help.contains(option), "{option} missing from:\n{help}");
    }
    let bad = sse(&["cat", "--no-such-option"], b"").await;
    assert_eq!(bad.status.code(), Some(2));
}
