//! The recording format of `sse record`: the raw bytes of a stream, as they arrived, with
//! their arrival times, in a file that is still readable in an editor.
//!
//! ```text
//! # sse-recording 1 http://127.0.0.1:8080/events/time
//! # content-type: text/event-stream; charset=utf-8
//! @12 38
//! <38 bytes, exactly as received>
//! @1013 38
//! <38 bytes>
//! ```
//!
//! A header line, any number of `# name: value` lines (the response headers worth keeping),
//! then one record per chunk: `@MILLIS LEN`, a line feed, `LEN` raw bytes, a line feed.
//! MILLIS counts from the request. Any file without the header is a plain stream.

use std::io::{self, BufRead, Write};
use std::time::Duration;

/// The first bytes of every recording.
pub const MAGIC: &[u8] = b"# sse-recording 1";

/// Writes a recording.
#[derive(Debug)]
pub struct Writer<W: Write> {
    out: W,
}

impl<W: Write> Writer<W> {
    /// Starts a recording of `url` with these response headers.
    pub fn new(mut out: W, url: &str, headers: &[(String, String)]) -> io::Result<Self> {
        out.write_all(MAGIC)?;
        writeln!(out, " {url}")?;
        for (name, value) in headers {
            writeln!(out, "# {name}: {value}")?;
        }
        Ok(Writer { out })
    }

    /// One chunk, `at` after the request.
    pub fn chunk(&mut self, at: Duration, bytes: &[u8]) -> io::Result<()> {
        writeln!(self.out, "@{} {}", at.as_millis(), bytes.len())?;
        self.out.write_all(bytes)?;
        self.out.write_all(b"\n")?;
        self.out.flush()
    }
}

/// A recording read back, or a plain stream (one chunk at time zero).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Recording {
    /// The `# name: value` lines, names in lower case.
    pub headers: Vec<(String, String)>,
    /// The chunks with their arrival times.
    pub chunks: Vec<(Duration, Vec<u8>)>,
}

impl Recording {
    /// The value of a recorded header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Reads `bytes`: a recording when it starts with [`MAGIC`], otherwise a plain stream.
///
/// # Errors
///
/// `InvalidData` for a recording whose records are cut or malformed.
pub fn read(bytes: &[u8]) -> io::Result<Recording> {
    if !bytes.starts_with(MAGIC) {
        return Ok(Recording {
            headers: Vec::new(),
            chunks: vec![(Duration::ZERO, bytes.to_vec())],
        });
    }
    let bad = |why: &str| io::Error::new(io::ErrorKind::InvalidData, format!("recording: {why}"));
    let mut input = bytes;
    let mut recording = Recording::default();
    let mut line = Vec::new();
    let mut first = true;
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            return Ok(recording);
        }
        let text = std::str::from_utf8(&line).map_err(|_| bad("a record line is not UTF-8"))?;
        let text = text.trim_end_matches('\n');
        if first {
            first = false;
            continue;
        }
        if let Some(header) = text.strip_prefix("# ") {
            if let Some((name, value)) = header.split_once(": ") {
                recording
                    .headers
                    .push((name.to_ascii_lowercase(), value.to_owned()));
            }
            continue;
        }
        let record = text
            .strip_prefix('@')
            .ok_or_else(|| bad("a record must start with @"))?;
        let (millis, len) = record
            .split_once(' ')
            .ok_or_else(|| bad("@MILLIS LEN expected"))?;
        let millis: u64 = millis.parse().map_err(|_| bad("bad MILLIS"))?;
        let len: usize = len.parse().map_err(|_| bad("bad LEN"))?;
        if input.len() < len + 1 || input[len] != b'\n' {
            return Err(bad("a chunk is cut short"));
        }
        recording
            .chunks
            .push((Duration::from_millis(millis), input[..len].to_vec()));
        input = &input[len + 1..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recording_reads_back_byte_for_byte() {
        let mut file = Vec::new();
        let mut writer = Writer::new(
            &mut file,
            "http://x/",
            &[("content-type".into(), "text/event-stream".into())],
        )
        .unwrap();
        let chunks = [&b"data: a\n\n"[..], b"\r\n\x00\xff@1 2\n", b""];
        for (i, chunk) in chunks.iter().enumerate() {
            writer
                .chunk(Duration::from_millis(i as u64 * 10), chunk)
                .unwrap();
        }
        let recording = read(&file).unwrap();
        assert_eq!(recording.header("content-type"), Some("text/event-stream"));
        let got: Vec<_> = recording.chunks.iter().map(|(_, c)| c.as_slice()).collect();
        assert_eq!(got, chunks);
        assert_eq!(recording.chunks[2].0, Duration::from_millis(20));
    }

    #[test]
    fn a_plain_file_is_one_chunk_and_a_cut_recording_is_refused() {
        assert_eq!(read(b"data: x\n\n").unwrap().chunks.len(), 1);
        let mut cut = MAGIC.to_vec();
        cut.extend_from_slice(b" u\n@0 10\nshort\n");
        assert_eq!(read(&cut).unwrap_err().kind(), io::ErrorKind::InvalidData);
    }
}
