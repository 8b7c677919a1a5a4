//! Slack workspace exports, zipped, in a tarball or unpacked: `channels.json`, `users.json` and one
//! `CHANNEL/YYYY-MM-DD.json` array of messages per channel and day.
//!
//! Each message's strings (`text`, attachment and file previews; not `blocks`, which repeat
//! `text`) are JSON-unescaped before scanning, because a kubeconfig pasted into Slack is one
//! string full of `\n` and `\/` escapes. Findings keep the real file or member path and get
//! the context `channel`, `date`, `ts`, `user` (the poster's name from `users.json`) and
//! `user_id`. `line`/`column` point at the credential inside the day file (escapes mapped
//! back), and `decoded_from` starts with `json_escape` when the credential held escapes.
//! Other files of an export (`users.json`, `channels.json` ...) are scanned as plain files.

use std::collections::{HashMap, HashSet};
use std::io::{Read, Seek};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde_json::Value;
use zip::ZipArchive;

use crate::decode::{self, Step};
use crate::finding::Finding;
use crate::location::LineIndex;
use crate::origin::Origin;
use crate::problem::Problem;
use crate::source::archive::Budget;
use crate::source::content::{read_up_to, Ctx};

/// Files whose presence at the top marks a directory or zip as a Slack export.
const MARKERS: &[&str] = &[
    "channels.json",
    "users.json",
    "groups.json",
    "dms.json",
    "mpims.json",
];
/// `users.json` and day files are parsed in memory up to this size; bigger day files are
/// scanned as plain JSON.
pub(crate) const MAX_JSON: usize = 256 << 20;
/// Strings shorter than this cannot hold a credential worth reporting.
const MIN_STRING: usize = 16;
/// Deeper JSON nesting than this is not walked (hostile input).
const MAX_NESTING: usize = 128;

/// User id → display name, from `users.json`.
#[derive(Debug, Default)]
pub(crate) struct Users(HashMap<String, String>);

impl Users {
    /// Parses `users.json`; anything unexpected just leaves names unresolved.
    fn parse(data: &[u8]) -> Users {
        let list: Vec<Value> = serde_json::from_slice(data).unwrap_or_default();
        let mut map = HashMap::new();
        for u in list {
            let Some(id) = u.get("id").and_then(Value::as_str) else {
                continue;
            };
            let name = ["name", "real_name"]
                .iter()
                .find_map(|k| u.get(*k).and_then(Value::as_str))
                .or_else(|| u.pointer("/profile/display_name").and_then(Value::as_str))
                .or_else(|| u.pointer("/profile/real_name").and_then(Value::as_str));
            if let Some(name) = name.filter(|n| !n.is_empty()) {
                map.insert(id.to_owned(), name.to_owned());
            }
        }
        Users(map)
    }
}

/// Where a day file sits: its channel and date.
pub(crate) struct Day<'a> {
    channel: String,
    date: String,
    users: &'a Users,
}

/// `CHANNEL/YYYY-MM-DD.json` → (channel, date).
fn day_path(rel: &str) -> Option<(String, String)> {
    let (channel, file) = rel.split_once('/')?;
    let date = file.strip_suffix(".json")?;
    let b = date.as_bytes();
    let is_date = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    (is_date && !channel.is_empty() && !channel.contains('/'))
        .then(|| (channel.to_owned(), date.to_owned()))
}

/// A Slack export inside a zip: the folder it sits in (often the zip root) and its users.
pub(crate) struct ZipExport {
    prefix: String,
    users: Users,
}

impl ZipExport {
    /// Recognises an export among the zip's member names (at the root or in one folder).
    pub(crate) fn detect<R: Read + Seek>(
        ctx: &Ctx<'_>,
        zip: &mut ZipArchive<R>,
        origin: &Origin,
    ) -> Option<ZipExport> {
        let names: Vec<&str> = zip.file_names().collect();
        let prefix = names.iter().find_map(|n| {
            let (dir, file) = n.rsplit_once('/').unwrap_or(("", n));
            let top = dir.is_empty() || !dir.contains('/');
            (top && MARKERS.contains(&file)).then(|| {
                if dir.is_empty() {
                    String::new()
                } else {
                    format!("{dir}/")
                }
            })
        })?;
        let has_days = names
            .iter()
            .any(|n| n.strip_prefix(prefix.as_str()).and_then(day_path).is_some());
        if !has_days {
            return None;
        }
        let users_name = format!("{prefix}users.json");
        let mut data = Vec::new();
        if let Ok(mut f) = zip.by_name(&users_name) {
            if let Err(e) = read_up_to(&mut f, &mut data, MAX_JSON) {
                let member = origin.member(&users_name);
                ctx.report(&member.path, Problem::CorruptArchive, &e.to_string());
            }
        }
        Some(ZipExport {
            prefix,
            users: Users::parse(&data),
        })
    }

    /// The channel and date of a member that is a day file of this export.
    pub(crate) fn day_file(&self, name: &str) -> Option<Day<'_>> {
        let (channel, date) = day_path(name.strip_prefix(self.prefix.as_str())?)?;
        Some(Day {
            channel,
            date,
            users: &self.users,
        })
    }
}

/// A Slack export inside a tar stream, recognised as its members go by. A tar can only be
/// read in order, so day files that come before the export's marker files (`channels.json`,
/// `users.json` ...) are scanned as plain JSON, and names resolve only after `users.json`.
#[derive(Default)]
pub(crate) struct TarExport {
    prefix: Option<String>,
    users: Users,
}

impl TarExport {
    /// Notes a member name; true when it is the export's `users.json`, which the caller
    /// should read and hand to [`TarExport::set_users`].
    pub(crate) fn note(&mut self, name: &str) -> bool {
        let name = name.trim_start_matches("./");
        let (dir, file) = name.rsplit_once('/').unwrap_or(("", name));
        if dir.contains('/') || !MARKERS.contains(&file) {
            return false;
        }
        let prefix = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        let same = self.prefix.get_or_insert_with(|| prefix.clone()) == &prefix;
        same && file == "users.json"
    }

    /// Takes the contents of `users.json`.
    pub(crate) fn set_users(&mut self, data: &[u8]) {
        self.users = Users::parse(data);
    }

    /// The channel and date of a member that is a day file of this export.
    pub(crate) fn day_file(&self, name: &str) -> Option<Day<'_>> {
        let prefix = self.prefix.as_deref()?;
        let rel = name.trim_start_matches("./").strip_prefix(prefix)?;
        let (channel, date) = day_path(rel)?;
        Some(Day {
            channel,
            date,
            users: &self.users,
        })
    }
}

/// Scans an archive member that is a day file (plain scan when it is not what Slack
/// writes).
pub(crate) fn scan_member_day(
    ctx: &Ctx<'_>,
    reader: &mut dyn Read,
    origin: &Origin,
    depth: usize,
    budget: &Budget,
    day: Day<'_>,
) {
    let mut buf = Vec::new();
    if let Err(e) = read_up_to(reader, &mut buf, MAX_JSON + 1) {
        return ctx.read_failed(origin, depth, Some(budget), &e);
    }
    if buf.len() > MAX_JSON {
        return ctx.scan_big(&buf, reader, None, origin, depth, Some(budget));
    }
    if !scan_day(ctx, &buf, origin, &day) {
        ctx.scan_buffer(&buf, origin, depth, Some(budget));
    }
}

/// Unpacked exports found while walking directories, by export root.
#[derive(Default)]
pub(crate) struct DirExports(Mutex<HashMap<PathBuf, Option<Arc<Users>>>>);

impl DirExports {
    /// If `path` is `ROOT/CHANNEL/YYYY-MM-DD.json` of an export: its users, channel, date.
    pub(crate) fn lookup(
        &self,
        ctx: &Ctx<'_>,
        path: &Path,
    ) -> Option<(Arc<Users>, String, String)> {
        let name = path.file_name()?.to_str()?;
        let chan_dir = path.parent()?;
        let channel = chan_dir.file_name()?.to_str()?;
        let (channel, date) = day_path(&format!("{channel}/{name}"))?;
        let root = chan_dir.parent()?;
        let mut cache = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let users = cache
            .entry(root.to_path_buf())
            .or_insert_with(|| load_dir_users(ctx, root))
            .clone()?;
        Some((users, channel, date))
    }
}

/// Reads `users.json` of an export root; `None` when `root` is no export.
fn load_dir_users(ctx: &Ctx<'_>, root: &Path) -> Option<Arc<Users>> {
    if !MARKERS.iter().any(|m| root.join(m).is_file()) {
        return None;
    }
    let path = root.join("users.json");
    let mut data = Vec::new();
    if let Ok(mut f) = std::fs::File::open(&path) {
        if let Err(e) = read_up_to(&mut f, &mut data, MAX_JSON) {
            ctx.report(&path.to_string_lossy(), Problem::ReadError, &e.to_string());
        }
    }
    Some(Arc::new(Users::parse(&data)))
}

/// Scans a day file of an unpacked export held in memory; false when it is not a JSON
/// array of messages (the caller then scans it as a plain file).
pub(crate) fn scan_dir_day(
    ctx: &Ctx<'_>,
    data: &[u8],
    origin: &Origin,
    users: &Users,
    channel: String,
    date: String,
) -> bool {
    let day = Day {
        channel,
        date,
        users,
    };
    scan_day(ctx, data, origin, &day)
}

/// Scans each message of a day file; false when the file is not a JSON array (the caller
/// then scans it as a plain file).
fn scan_day(ctx: &Ctx<'_>, raw: &[u8], origin: &Origin, day: &Day<'_>) -> bool {
    let Some(elements) = Json::new(raw).array_elements() else {
        return false;
    };
    let mut lines = LineIndex::new(raw);
    for el in elements {
        let msg: Value = serde_json::from_slice(&raw[el.clone()]).unwrap_or(Value::Null);
        let mut strings = Vec::new();
        let mut walker = Json {
            s: raw,
            i: el.start,
        };
        if walker.value(0, true, &mut strings).is_none() {
            continue;
        }
        let mut o = origin.clone();
        o.context.insert("channel".into(), day.channel.clone());
        o.context.insert("date".into(), day.date.clone());
        if let Some(ts) = msg
            .get("ts")
            .and_then(Value::as_str)
            .filter(|t| is_slack_ts(t))
        {
            o.context.insert("ts".into(), ts.to_owned());
        }
        let user_id = msg.get("user").and_then(Value::as_str);
        let user = user_id
            .and_then(|id| day.users.0.get(id).map(String::as_str))
            .or_else(|| msg.pointer("/user_profile/name").and_then(Value::as_str))
            .or_else(|| {
                msg.pointer("/user_profile/real_name")
                    .and_then(Value::as_str)
            })
            .or_else(|| msg.get("username").and_then(Value::as_str))
            .or(user_id);
        if let Some(user) = user {
            o.context.insert("user".into(), clip(user));
        }
        if let Some(id) = user_id {
            o.context.insert("user_id".into(), clip(id));
        }
        let mut seen_text = HashSet::new();
        let mut seen_secret = HashSet::new();
        for span in strings {
            let decoded = decode::unescape_json(&raw[span.clone()]);
            if decoded.bytes.len() < MIN_STRING || !seen_text.insert(decoded.bytes.clone()) {
                continue;
            }
            let mut found = crate::sink::Collected::default();
            ctx.scanner.scan_bytes_with(&decoded.bytes, &o, &mut found);
            ctx.suppressed(found.suppressed);
            for f in found.findings {
                if !seen_secret.insert((f.rule_id.clone(), f.secret.expose().to_owned())) {
                    continue;
                }
                let mut f = relocate(f, &decoded, span.clone(), raw, &mut lines);
                // Context comes from the same hostile file: it must not carry the secret.
                let secret = f.secret.expose().to_owned();
                for v in f.context.values_mut() {
                    if v.contains(&secret) {
                        *v = f.secret.redacted();
                    }
                }
                ctx.finding(f);
            }
        }
    }
    ctx.scanned(&origin.path, raw.len() as u64);
    true
}

/// Whether `ts` looks like a Slack message timestamp (`1709640000.000100`).
fn is_slack_ts(ts: &str) -> bool {
    let (secs, micros) = ts.split_once('.').unwrap_or((ts, "0"));
    ts.len() <= 24
        && !secs.is_empty()
        && secs.bytes().all(|b| b.is_ascii_digit())
        && micros.bytes().all(|b| b.is_ascii_digit())
}

/// A name from the export, cut to a sane length (it is only a label).
fn clip(s: &str) -> String {
    s.chars().take(80).collect()
}

/// Moves a finding made in an unescaped string back to the string's place in the file.
fn relocate(
    mut f: Finding,
    decoded: &decode::Decoded,
    span: Range<usize>,
    raw: &[u8],
    lines: &mut LineIndex<'_>,
) -> Finding {
    let text = &decoded.bytes;
    let d_start = (f.byte_offset as usize).min(text.len());
    // The end as an offset in the decoded text, from its (exclusive) end line/column.
    let line_start = if f.end_line <= 1 {
        0
    } else {
        memchr::memchr_iter(b'\n', text)
            .nth(f.end_line - 2)
            .map_or(text.len(), |p| p + 1)
    };
    let d_end = (line_start + f.end_column.saturating_sub(1)).clamp(d_start, text.len());
    let to_raw = |d: usize| match decoded.origin.get(d) {
        Some(&o) => span.start + o as usize,
        None => span.end,
    };
    let (start, end) = (to_raw(d_start), to_raw(d_end).max(to_raw(d_start) + 1));
    let (line, column) = lines.locate(start);
    let (end_line, end_column) = lines.locate(end);
    f.line = line;
    f.column = column;
    f.end_line = end_line;
    f.end_column = end_column;
    f.byte_offset = start as u64;
    f.byte_length = (end - start) as u64;
    // Escapes before or inside the credential may be what made it visible (a kubeconfig's
    // `\n`s), so the step is recorded then.
    if raw[span.start..end.min(raw.len())].contains(&b'\\') {
        f.decoded_from
            .insert(0, Step::JsonEscape.as_str().to_owned());
    }
    f
}

/// Just enough of a JSON reader to find element and string-value byte ranges (serde_json
/// gives values, not where they are).
struct Json<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> Json<'a> {
    fn new(s: &'a [u8]) -> Self {
        Json { s, i: 0 }
    }

    fn ws(&mut self) {
        while self.i < self.s.len() && matches!(self.s[self.i], b' ' | b'\t' | b'\r' | b'\n') {
            self.i += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    /// The ranges of the top-level array's elements.
    fn array_elements(mut self) -> Option<Vec<Range<usize>>> {
        if self.s.starts_with(b"\xef\xbb\xbf") {
            self.i = 3;
        }
        self.ws();
        if self.peek()? != b'[' {
            return None;
        }
        self.i += 1;
        let mut out = Vec::new();
        self.ws();
        if self.peek()? == b']' {
            return Some(out);
        }
        loop {
            self.ws();
            let start = self.i;
            self.value(0, false, &mut Vec::new())?;
            out.push(start..self.i);
            self.ws();
            match self.peek()? {
                b',' => self.i += 1,
                b']' => return Some(out),
                _ => return None,
            }
        }
    }

    /// The contents (without quotes) of the string at the cursor.
    fn string(&mut self) -> Option<Range<usize>> {
        if self.peek()? != b'"' {
            return None;
        }
        let start = self.i + 1;
        let mut j = start;
        loop {
            // A backslash as the very last byte steps past the end: not a string.
            let p = memchr::memchr2(b'"', b'\\', self.s.get(j..)?)?;
            j += p;
            if self.s[j] == b'\\' {
                j += 2;
                continue;
            }
            self.i = j + 1;
            return Some(start..j);
        }
    }

    /// Skips one value; when `collect`, records string values (not keys, not `blocks`).
    fn value(&mut self, depth: usize, collect: bool, out: &mut Vec<Range<usize>>) -> Option<()> {
        if depth > MAX_NESTING {
            return None;
        }
        self.ws();
        match self.peek()? {
            b'"' => {
                let r = self.string()?;
                if collect {
                    out.push(r);
                }
            }
            open @ (b'{' | b'[') => {
                let close = if open == b'{' { b'}' } else { b']' };
                self.i += 1;
                self.ws();
                if self.peek()? == close {
                    self.i += 1;
                    return Some(());
                }
                loop {
                    self.ws();
                    let mut keep = collect;
                    if open == b'{' {
                        let key = self.string()?;
                        keep &= &self.s[key] != b"blocks";
                        self.ws();
                        if self.peek()? != b':' {
                            return None;
                        }
                        self.i += 1;
                    }
                    self.value(depth + 1, keep, out)?;
                    self.ws();
                    match self.peek()? {
                        b',' => self.i += 1,
                        c if c == close => {
                            self.i += 1;
                            return Some(());
                        }
                        _ => return None,
                    }
                }
            }
            _ => {
                let start = self.i;
                while self.i < self.s.len()
                    && !matches!(
                        self.s[self.i],
                        b',' | b']' | b'}' | b' ' | b'\t' | b'\r' | b'\n'
                    )
                {
                    self.i += 1;
                }
                if self.i == start {
                    return None;
                }
            }
        }
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the `slack` fuzz target: a message whose `ts` held the message text.
    #[test]
    fn only_real_timestamps_become_context() {
        assert!(is_slack_ts("1709640000.000100"));
        assert!(is_slack_ts("1709640000"));
        assert!(!is_slack_ts(
            "1709640000.0 token, use it for now: eyJhbGciOiJSUzI1NiJ9"
        ));
        assert!(!is_slack_ts(""));
    }

    /// Found by the `slack` fuzz target: a string whose last byte is a backslash.
    #[test]
    fn truncated_escape_at_the_end_is_not_a_panic() {
        for s in [&b"[\"ab\\"[..], b"[{\"text\": \"x\\", b"\"\\"] {
            assert_eq!(Json::new(s).array_elements(), None, "{s:?}");
        }
        assert_eq!(
            Json::new(b"[\"a\\\"b\"]").array_elements(),
            Some(std::iter::once(1..7).collect())
        );
    }

    #[test]
    fn day_paths() {
        assert_eq!(
            day_path("general/2024-01-31.json"),
            Some(("general".into(), "2024-01-31".into()))
        );
        assert_eq!(day_path("general/notes.json"), None);
        assert_eq!(day_path("a/b/2024-01-31.json"), None);
        assert_eq!(day_path("2024-01-31.json"), None);
    }

    #[test]
    fn json_spans() {
        let raw = br#" [ {"text": "a\"b", "blocks": [{"text": "x"}], "n": 1}, {"t": ["y"]} ]"#;
        let els = Json::new(raw).array_elements().unwrap();
        assert_eq!(els.len(), 2);
        let mut out = Vec::new();
        Json {
            s: raw,
            i: els[0].start,
        }
        .value(0, true, &mut out)
        .unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(&raw[out[0].clone()], br#"a\"b"#);
        assert!(Json::new(b"[1, 2").array_elements().is_none());
        assert!(Json::new(b"{}").array_elements().is_none());
    }
}
