//! Deterministic benchmark corpora, each several MiB and ending on an event boundary.
//!
//! Every generator also works out, from what it wrote (not by parsing), how many events a
//! conforming parser must dispatch and how many data bytes they carry, so a benchmark can
//! check its own answer. Shared by the benches and `tests/allocations.rs`.
#![allow(dead_code)]

/// One corpus and the answer a conforming parser must give.
pub struct Corpus {
    pub name: &'static str,
    pub bytes: Vec<u8>,
    pub events: usize,
    pub data_bytes: usize,
}

/// Size each corpus grows to (it stops at the first event boundary past it).
pub const TARGET_LEN: usize = 4 << 20;

/// A tiny deterministic generator (xorshift), so corpora are the same on every run.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// LLM-style tokens, some of them multi-byte.
const TOKENS: &[&str] = &[
    " the",
    " quick",
    " brown",
    " fox",
    " jumps",
    " over",
    " lazy",
    " dog",
    ".",
    ",",
    "\\n",
    " café",
    " naïve",
    " 日本語",
    " 🙂",
    " résumé",
    " Straße",
    " ok",
    " def",
    "()",
    " {",
];

pub fn token_json(rng: &mut Rng, n: usize) -> String {
    let token = TOKENS[rng.below(TOKENS.len())];
    format!(
        "{{\"id\":\"chatcmpl-{:08x}\",\"object\":\"chat.completion.chunk\",\"created\":{},\"model\":\"gpt-4o-mini\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"{}\"}},\"finish_reason\":null}}]}}",
        n * 2654435761 % 0xffff_ffff,
        1_700_000_000 + n,
        token
    )
}

fn finish(name: &'static str, bytes: Vec<u8>, events: usize, data_bytes: usize) -> Corpus {
    Corpus {
        name,
        bytes,
        events,
        data_bytes,
    }
}

/// `tokens` (LF) or `crlf` (CRLF): one `data:` line of ~170 bytes of JSON per event.
fn tokens_with(name: &'static str, eol: &str, target: usize) -> Corpus {
    let mut rng = Rng(0x5eed_0001);
    let (mut bytes, mut events, mut data_bytes) = (Vec::new(), 0, 0);
    while bytes.len() < target {
        let json = token_json(&mut rng, events);
        bytes.extend_from_slice(format!("data: {json}{eol}{eol}").as_bytes());
        events += 1;
        data_bytes += json.len();
    }
    finish(name, bytes, events, data_bytes)
}

/// `multiline` (LF) or `crlf-multiline`: 20 data lines of 40 bytes per event.
fn multiline_with(name: &'static str, eol: &str, target: usize) -> Corpus {
    let mut rng = Rng(0x5eed_0002);
    let (mut bytes, mut events, mut data_bytes) = (Vec::new(), 0, 0);
    while bytes.len() < target {
        for line in 0..20 {
            let text: String = (0..40)
                .map(|_| (b'a' + rng.below(26) as u8) as char)
                .collect();
            bytes.extend_from_slice(format!("data: {text}{eol}").as_bytes());
            data_bytes += text.len() + usize::from(line > 0);
        }
        bytes.extend_from_slice(eol.as_bytes());
        events += 1;
    }
    finish(name, bytes, events, data_bytes)
}

/// 64 KiB single-line JSON events.
fn large(target: usize) -> Corpus {
    let mut rng = Rng(0x5eed_0003);
    let (mut bytes, mut events, mut data_bytes) = (Vec::new(), 0, 0);
    while bytes.len() < target {
        let mut json = String::from("{\"blob\":\"");
        while json.len() < 64 * 1024 - 16 {
            if rng.below(64) == 0 {
                json.push('é');
            } else {
                json.push((b'a' + rng.below(26) as u8) as char);
            }
        }
        json.push_str("\"}");
        bytes.extend_from_slice(format!("data: {json}\n\n").as_bytes());
        events += 1;
        data_bytes += json.len();
    }
    finish("large", bytes, events, data_bytes)
}

/// Everything a real stream mixes: named events with ids, keep-alive comments, `data:`
/// without the space, retry, an unknown field, id-only blocks. About 55 bytes per block.
fn mixed(target: usize) -> Corpus {
    let (mut bytes, mut events, mut data_bytes) = (Vec::new(), 0, 0);
    let mut n = 0usize;
    while bytes.len() < target {
        let (block, data): (String, Option<String>) = match n % 6 {
            0 => {
                let data = format!("{{\"seq\":{n},\"ok\":true}}");
                (
                    format!("event: update\nid: {n}\ndata: {data}\n\n"),
                    Some(data),
                )
            }
            1 => (String::from(": keep-alive ping\n\n"), None),
            2 => {
                let data = format!("compact-{n}");
                (format!("data:{data}\n\n"), Some(data))
            }
            3 => {
                let data = format!("after retry {n}");
                (format!("retry: 3000\ndata: {data}\n\n"), Some(data))
            }
            4 => {
                let data = format!("unknown field skipped {n}");
                (format!("x-custom: 1\ndata: {data}\n\n"), Some(data))
            }
            _ => (format!("id: checkpoint-{n}\n\n"), None),
        };
        bytes.extend_from_slice(block.as_bytes());
        if let Some(data) = data {
            events += 1;
            data_bytes += data.len();
        }
        n += 1;
    }
    finish("mixed", bytes, events, data_bytes)
}

/// All corpora at [`TARGET_LEN`], in the order the benches and docs list them.
pub fn all() -> Vec<Corpus> {
    all_with_len(TARGET_LEN)
}

/// All corpora, each grown to at least `target` bytes (the same bytes as a prefix of the
/// full-size corpus, cut at an event boundary).
pub fn all_with_len(target: usize) -> Vec<Corpus> {
    vec![
        tokens_with("tokens", "\n", target),
        large(target),
        multiline_with("multiline", "\n", target),
        tokens_with("crlf", "\r\n", target),
        multiline_with("crlf-multiline", "\r\n", target),
        mixed(target),
    ]
}

/// Splits `bytes` into chunks of `size` (the last may be shorter), as owned `Bytes` that are
/// already shared, as an HTTP body's are: a fresh `Bytes` made from a `Vec` allocates a
/// shared header on its first clone, which would be counted against whichever parser clones
/// it first.
pub fn chunks(bytes: &[u8], size: usize) -> Vec<bytes::Bytes> {
    bytes
        .chunks(size.max(1))
        .map(|chunk| {
            let chunk = bytes::Bytes::copy_from_slice(chunk);
            drop(chunk.clone());
            chunk
        })
        .collect()
}

/// An event to encode, as plain strings (so every encoder starts from the same values).
#[derive(Clone, Debug)]
pub struct SourceEvent {
    pub event: Option<String>,
    pub id: Option<String>,
    pub data: String,
}

/// Events to encode: `tokens` (one ~170-byte JSON line, no type or id, as LLM streams send)
/// and `mixed` (named events with ids, plain data, multi-line data; ~55 bytes encoded).
pub fn encode_sets(count: usize) -> Vec<(&'static str, Vec<SourceEvent>)> {
    let mut rng = Rng(0x5eed_0004);
    let tokens = (0..count)
        .map(|n| SourceEvent {
            event: None,
            id: None,
            data: token_json(&mut rng, n),
        })
        .collect();
    let mixed = (0..count)
        .map(|n| match n % 3 {
            0 => SourceEvent {
                event: Some("update".into()),
                id: Some(n.to_string()),
                data: format!("{{\"seq\":{n}}}"),
            },
            1 => SourceEvent {
                event: None,
                id: None,
                data: format!("plain message {n}"),
            },
            _ => SourceEvent {
                event: Some("log".into()),
                id: None,
                data: format!("line one\nline two {n}\nthree"),
            },
        })
        .collect();
    vec![("tokens", tokens), ("mixed", mixed)]
}
