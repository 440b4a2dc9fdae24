//! The reference model: the WHATWG event stream algorithm ("Parsing an event stream",
//! "Interpreting an event stream", "Dispatch the event") applied to a whole stream at once,
//! written for obviousness rather than speed. Std only, apart from `observe`, so the fuzz
//! crate can include this file with `#[path]`.
#![allow(dead_code)] // the fuzz crate and the test binaries each use a part

/// One thing the model reports, in stream order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Out {
    /// A dispatched event; `id` is the last event ID string, `None` until an `id:` field took
    /// effect at a dispatch point.
    Event {
        event_type: String,
        data: String,
        id: Option<String>,
    },
    /// A valid `retry:` field, in milliseconds.
    Retry(u64),
    /// A comment line: the text after the `:`, minus one leading space.
    Comment(String),
}

/// The whole stream at once; returns the outputs and the final last-event-ID string ("" if
/// never set).
pub fn parse(input: &[u8], emit_comments: bool) -> (Vec<Out>, String) {
    // UTF-8 decode: one leading BOM is dropped, invalid sequences become U+FFFD.
    let input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    let text = String::from_utf8_lossy(input);

    // Lines end at CRLF, lone CR or lone LF; an unterminated last line is never processed.
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                lines.push(std::mem::take(&mut line));
            }
            '\n' => lines.push(std::mem::take(&mut line)),
            c => line.push(c),
        }
    }

    let mut out = Vec::new();
    let mut data = String::new();
    let mut event_type = String::new();
    let mut id_buffer: Option<String> = None;
    let mut last_event_id: Option<String> = None;
    for line in lines {
        if line.is_empty() {
            // Dispatch the event.
            last_event_id.clone_from(&id_buffer);
            if data.is_empty() {
                event_type.clear();
                continue;
            }
            data.pop(); // the trailing LF
            let event_type = std::mem::take(&mut event_type);
            out.push(Out::Event {
                event_type: if event_type.is_empty() {
                    "message".into()
                } else {
                    event_type
                },
                data: std::mem::take(&mut data),
                id: last_event_id.clone(),
            });
            continue;
        }
        if let Some(comment) = line.strip_prefix(':') {
            if emit_comments {
                let text = comment.strip_prefix(' ').unwrap_or(comment);
                out.push(Out::Comment(text.to_string()));
            }
            continue;
        }
        let (name, value) = match line.split_once(':') {
            Some((name, value)) => (name, value.strip_prefix(' ').unwrap_or(value)),
            None => (line.as_str(), ""),
        };
        match name {
            "event" => event_type = value.to_string(),
            "data" => {
                data.push_str(value);
                data.push('\n');
            }
            "id" if !value.contains('\0') => id_buffer = Some(value.to_string()),
            "retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                // Too many digits for u64 milliseconds: ignored (our documented choice).
                if let Ok(ms) = value.parse::<u64>() {
                    out.push(Out::Retry(ms));
                }
            }
            _ => {}
        }
    }
    // End of stream: the event still being built is discarded.
    (out, last_event_id.unwrap_or_default())
}

/// Converts one parser step; None for NeedData/End.
pub fn observe(step: &sse_proto::Step) -> Option<Out> {
    match step {
        sse_proto::Step::Event(event) => Some(Out::Event {
            event_type: event.event_type().to_string(),
            data: event.data().to_string(),
            id: event.id().map(str::to_string),
        }),
        sse_proto::Step::Retry(delay) => Some(Out::Retry(
            u64::try_from(delay.as_millis()).expect("retry came from a u64"),
        )),
        sse_proto::Step::Comment(text) => Some(Out::Comment(text.to_string())),
        _ => None,
    }
}
