//! What this backend asks Redis, and how it reads the replies. Each step that must see one
//! state of the data (the epoch and the stream together) is one Lua script, which Redis runs
//! atomically.

use ::redis::aio::MultiplexedConnection;
use ::redis::Value;
use sse_proto::{Event, Frame};

use super::id::{fresh_epoch, EntryId, EventId};
use super::RedisError;

/// The two keys: the stream, and its epoch beside it.
#[derive(Clone, Debug)]
pub(crate) struct Keys {
    pub(crate) stream: String,
    pub(crate) epoch: String,
}

/// Publish: the epoch (made now if the key is missing, so a flushed Redis starts a new one),
/// then `XADD` with it as a field, so the reader knows each entry's epoch without asking.
const PUBLISH: &str = r"
local epoch = redis.call('GET', KEYS[2])
if not epoch then
  epoch = ARGV[2]
  redis.call('SET', KEYS[2], epoch)
end
local id
if ARGV[4] then
  id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'epoch', epoch, 'data', ARGV[3], 'event', ARGV[4])
else
  id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'epoch', epoch, 'data', ARGV[3])
end
return {epoch, id}
";

/// Lua: `last`, `deleted` and `first`, the stream's `last-generated-id`,
/// `max-deleted-entry-id` (what `XDEL` removed; Redis 7.0 does not count trimmed entries
/// there) and `recorded-first-entry-id` (the oldest kept: what trimming moves), the last
/// two empty when the server does not say (before Redis 7).
macro_rules! stream_bounds {
    () => {
        "
local info = redis.call('XINFO', 'STREAM', KEYS[1])
local last, deleted, first = '', '', ''
for i = 1, #info, 2 do
  if info[i] == 'last-generated-id' then last = info[i + 1] end
  if info[i] == 'max-deleted-entry-id' then deleted = info[i + 1] end
  if info[i] == 'recorded-first-entry-id' then first = info[i + 1] end
end
"
    };
}

/// The reader's step, as one state: the epoch (made if missing: the reader notices a flushed
/// Redis even when nobody publishes), the newest id ever added, the newest deleted (Redis 7;
/// `0-0` for none), and up to ARGV[3] entries after ARGV[2].
const NEXT: &str = concat!(
    r"
local epoch = redis.call('GET', KEYS[2])
if not epoch then
  epoch = ARGV[1]
  redis.call('SET', KEYS[2], epoch)
end
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {epoch, '', '0-0', '', {}}
end
",
    stream_bounds!(),
    r"
local range = {}
if tonumber(ARGV[3]) > 0 then
  range = redis.call('XRANGE', KEYS[1], '(' .. ARGV[2], '+', 'COUNT', ARGV[3])
end
return {epoch, last, deleted, first, range}
"
);

/// A new epoch, unless another instance already replaced the old one.
const ROTATE: &str = r"
if redis.call('GET', KEYS[2]) == ARGV[1] then
  redis.call('SET', KEYS[2], ARGV[2])
end
return redis.call('GET', KEYS[2])
";

/// Resume: the epoch, the stream's bounds and the entries after the client's, as one state.
const RESUME: &str = concat!(
    r"
if redis.call('GET', KEYS[2]) ~= ARGV[1] or redis.call('EXISTS', KEYS[1]) == 0 then
  return {0}
end
",
    stream_bounds!(),
    r"
return {1, last, deleted, first, redis.call('XRANGE', KEYS[1], '(' .. ARGV[2], '+')}
"
);

fn eval(script: &str, keys: &Keys) -> ::redis::Cmd {
    let mut cmd = ::redis::cmd("EVAL");
    cmd.arg(script).arg(2).arg(&keys.stream).arg(&keys.epoch);
    cmd
}

fn text(value: &Value) -> Option<&str> {
    match value {
        Value::BulkString(bytes) => core::str::from_utf8(bytes).ok(),
        Value::SimpleString(text) => Some(text),
        _ => None,
    }
}

fn items(value: &Value) -> Option<&[Value]> {
    match value {
        Value::Array(items) | Value::Set(items) => Some(items),
        _ => None,
    }
}

fn unexpected(command: &'static str) -> RedisError {
    RedisError::UnexpectedReply { command }
}

/// `XADD`s `event` (its type and data; it has no id, the entry's id becomes it) and returns
/// the event id it got.
pub(crate) async fn publish(
    connection: &mut MultiplexedConnection,
    keys: &Keys,
    history: usize,
    event: &Event,
) -> Result<String, RedisError> {
    let mut cmd = eval(PUBLISH, keys);
    cmd.arg(history.max(1)).arg(fresh_epoch()).arg(event.data());
    if let Some(event_type) = event.event() {
        cmd.arg(event_type);
    }
    let reply: Value = cmd.query_async(connection).await?;
    let parts = items(&reply).ok_or(unexpected("XADD"))?;
    match parts {
        [epoch, id] => {
            let (epoch, id) = (text(epoch), text(id).and_then(EntryId::parse));
            match (epoch, id) {
                (Some(epoch), Some(entry)) => Ok(EventId { epoch, entry }.to_string()),
                _ => Err(unexpected("XADD")),
            }
        }
        _ => Err(unexpected("XADD")),
    }
}

/// The stream as the reader sees it at one instant.
#[derive(Clone, Debug)]
pub(crate) struct Step {
    pub(crate) epoch: String,
    /// The newest id ever added (`None`: no stream).
    pub(crate) last: Option<EntryId>,
    /// The newest id deleted (`ZERO`: none); `None` on a Redis before 7, which does not say.
    pub(crate) deleted: Option<EntryId>,
    /// The oldest id kept (`None`: no entry, or a Redis before 7).
    pub(crate) first: Option<EntryId>,
    /// Entries after the one asked for, oldest first.
    pub(crate) entries: Vec<Entry>,
}

fn bound(value: Option<&Value>) -> Option<EntryId> {
    value.and_then(text).and_then(EntryId::parse)
}

/// The reader's step: the state of the stream and up to `count` entries after `after`.
pub(crate) async fn next(
    connection: &mut MultiplexedConnection,
    keys: &Keys,
    after: EntryId,
    count: usize,
) -> Result<Step, RedisError> {
    let reply: Value = eval(NEXT, keys)
        .arg(fresh_epoch())
        .arg(after.to_string())
        .arg(count)
        .query_async(connection)
        .await?;
    let Some([epoch, last, deleted, first, range]) = items(&reply) else {
        return Err(unexpected("XRANGE"));
    };
    Ok(Step {
        epoch: text(epoch).ok_or(unexpected("XRANGE"))?.to_owned(),
        last: bound(Some(last)),
        deleted: bound(Some(deleted)),
        first: bound(Some(first)),
        entries: entries(range, "XRANGE")?,
    })
}

/// Replaces epoch `old` by a fresh one (unless another instance did) and returns the epoch
/// now in force.
pub(crate) async fn rotate(
    connection: &mut MultiplexedConnection,
    keys: &Keys,
    old: &str,
) -> Result<String, RedisError> {
    let reply: Value = eval(ROTATE, keys)
        .arg(old)
        .arg(fresh_epoch())
        .query_async(connection)
        .await?;
    text(&reply).map(str::to_owned).ok_or(unexpected("GET"))
}

/// An entry the reader or a range read got.
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    pub(crate) id: EntryId,
    /// `None` when the entry is not one of ours (no epoch field): skipped.
    pub(crate) epoch: Option<String>,
    pub(crate) frame: Option<Frame>,
}

/// One `[id, [field, value, ...]]` of an `XRANGE` or `XREAD` reply. The frame is encoded
/// here, once per instance, with the event id `<epoch>-<entry id>`.
fn entry(value: &Value) -> Option<Entry> {
    let [id, fields] = items(value)? else {
        return None;
    };
    let id = EntryId::parse(text(id)?)?;
    let (mut epoch, mut data, mut event_type) = (None, None, None);
    for pair in items(fields)?.chunks(2) {
        if let [name, value] = pair {
            match text(name) {
                Some("epoch") => epoch = text(value),
                Some("data") => data = text(value),
                Some("event") => event_type = text(value),
                _ => {}
            }
        }
    }
    let frame = match (epoch, data) {
        (Some(epoch), Some(data)) if super::id::is_epoch(epoch) => {
            let mut builder = Event::builder()
                .id(EventId { epoch, entry: id }.to_string())
                .data(data.to_owned());
            if let Some(event_type) = event_type {
                builder = builder.event(event_type.to_owned());
            }
            // A type with a line break (written by someone else) cannot be sent: skipped.
            builder.build().ok().map(|event| Frame::from_event(&event))
        }
        _ => None,
    };
    Some(Entry {
        id,
        epoch: epoch.map(str::to_owned),
        frame,
    })
}

fn entries(value: &Value, command: &'static str) -> Result<Vec<Entry>, RedisError> {
    items(value)
        .ok_or(unexpected(command))?
        .iter()
        .map(|value| entry(value).ok_or(unexpected(command)))
        .collect()
}

/// Waits with `XREAD BLOCK` until there is an entry after `after` (`true`) or the block
/// time passed (`false`). The entries themselves are then read by [`next`], atomically with
/// the state that says whether they follow on without a gap.
pub(crate) async fn wait(
    connection: &mut MultiplexedConnection,
    keys: &Keys,
    after: EntryId,
    block_ms: u64,
) -> Result<bool, RedisError> {
    let reply: Value = ::redis::cmd("XREAD")
        .arg("COUNT")
        .arg(1)
        .arg("BLOCK")
        .arg(block_ms.max(1))
        .arg("STREAMS")
        .arg(&keys.stream)
        .arg(after.to_string())
        .query_async(connection)
        .await?;
    Ok(!matches!(reply, Value::Nil))
}

/// What the stream has for a client's id.
#[derive(Debug)]
pub(crate) enum Found {
    /// The entries after it (possibly none).
    After(Vec<Entry>),
    /// Another epoch, trimmed past it, or never written.
    Unknown,
}

pub(crate) async fn resume(
    connection: &mut MultiplexedConnection,
    keys: &Keys,
    id: EventId<'_>,
) -> Result<Found, RedisError> {
    let reply: Value = eval(RESUME, keys)
        .arg(id.epoch)
        .arg(id.entry.to_string())
        .query_async(connection)
        .await?;
    let parts = items(&reply).ok_or(unexpected("XRANGE"))?;
    let [status, last, deleted, first, range] = parts else {
        return Ok(Found::Unknown);
    };
    if !matches!(status, Value::Int(1)) {
        return Err(unexpected("XRANGE"));
    }
    // A Redis before 7 says neither what was deleted nor what was trimmed: nothing proves
    // that the entries after the client's are all still there.
    let (Some(deleted), Some(last)) = (bound(Some(deleted)), bound(Some(last))) else {
        return Ok(Found::Unknown);
    };
    // Never written here: from a stream this epoch did not see (a restored snapshot).
    if id.entry > last {
        return Ok(Found::Unknown);
    }
    // Something after the client's id was deleted: it would be a gap.
    if deleted > id.entry {
        return Ok(Found::Unknown);
    }
    // Trimming removes the oldest entries and moves the first one kept. An id before it
    // may have lost entries after it: unknown, unless nothing was ever trimmed. (A client
    // whose own entry was the last one trimmed is unknown too: the stream cannot say that
    // nothing after it went.)
    if bound(Some(first)).is_some_and(|first| id.entry < first) {
        return Ok(Found::Unknown);
    }
    Ok(Found::After(entries(range, "XRANGE")?))
}
