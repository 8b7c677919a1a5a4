//! Prefilter hits → candidate windows → rules → findings.
//!
//! The scanner never does I/O except reading from a reader it is handed; sources decide
//! what to feed it. One [`Scanner`] is built once and shared by all threads.

use std::borrow::Cow;
use std::io::{self, Read};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::allowlist::Verdict;
use crate::analyse;
use crate::candidate::Candidate;
use crate::config::Config;
use crate::decode::run::{enclosing_json_string, shift, MAX_RUN};
use crate::decode::runs::Runs;
use crate::decode::{self, Decoded, Step};
use crate::finding::{CertificateInfo, Finding, Secret, Severity, TokenInfo};
use crate::fingerprint::{self, Fingerprinter};
use crate::location::{LineIndex, Span, Start};
use crate::origin::Origin;
use crate::prefilter::{Prefilter, Trigger};
use crate::rules::{
    self, bootstrap, dockerconfig, jwt, kubeconfig, kubeconfig_server, kubectl, pem, static_file,
};
use crate::sink::Sink;
use crate::suppress;
use crate::verify::KeySet;

mod builder;
mod examples;
mod layers;

pub use builder::ScannerBuilder;
pub use examples::ExampleFailure;

/// Bytes two consecutive chunks of a streamed input share. Half of it is look-back context
/// and half look-ahead, so any credential up to `CHUNK_OVERLAP / 2` bytes long that starts in
/// one chunk is found whole in exactly that chunk.
pub const CHUNK_OVERLAP: usize = 128 * 1024;
const DEFAULT_CHUNK: usize = 8 * 1024 * 1024;
/// How many encodings deep the scanner looks (e.g. base64 inside a JSON string inside base64).
const MAX_DEPTH: usize = 3;
/// Decoded bytes one scan call may produce in total, beyond [`DECODE_PER_BYTE`] per input
/// byte; keeps decoding linear in the input.
const DECODE_BUDGET: usize = 8 * 1024 * 1024;
/// Decoded bytes allowed per input byte. Decoded ranges of one layer never overlap (but for
/// the [`RUN_OVERLAP`] of runs cut at [`MAX_RUN`]) and no step makes text longer, so three
/// levels need at most about 3.2 per byte: running out means something is wrong, and is
/// reported rather than silently scanning less.
const DECODE_PER_BYTE: usize = 4;

/// The compiled rule set. Cheap to share: `Send + Sync`, scan from any number of threads.
pub struct Scanner {
    prefilter: Prefilter,
    now: Option<i64>,
    chunk_size: usize,
    /// Fixed decode budget per scan call, when the builder set one.
    decode_budget: Option<usize>,
    /// Custom rules and the allowlist / override policy (see `config`).
    config: Option<Arc<Config>>,
    keys: Option<Arc<KeySet>>,
    fingerprints: Fingerprinter,
}

impl std::fmt::Debug for Scanner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scanner")
            .field("now", &self.now)
            .field("chunk_size", &self.chunk_size)
            .finish_non_exhaustive()
    }
}

impl Default for Scanner {
    fn default() -> Self {
        Scanner::new()
    }
}

/// A buffer being scanned: the input itself, or text decoded from it.
struct Layer<'a> {
    data: &'a [u8],
    /// The buffer may begin inside a base64 run (a later chunk of a stream).
    open_start: bool,
    steps: Vec<Step>,
    parent: Option<(&'a Decoded, &'a Layer<'a>)>,
}

impl Layer<'_> {
    /// Maps an offset in this layer to an offset in the original input.
    fn to_input(&self, off: usize) -> usize {
        match self.parent {
            None => off,
            Some((decoded, parent)) => parent.to_input(decoded.map(off)),
        }
    }
}

/// A candidate mapped to input coordinates.
struct Raw {
    rule_id: Cow<'static, str>,
    start: usize,
    end: usize,
    secret: String,
    token: Option<TokenInfo>,
    certificate: Option<CertificateInfo>,
    steps: Vec<Step>,
    description: Option<String>,
    matched: Option<String>,
    api_server: Option<String>,
    severity: Option<Severity>,
}

struct State<'a> {
    now: i64,
    budget: usize,
    /// Decoded text left unscanned because the budget ran out (reported once per call).
    over_budget: bool,
    out: Vec<Raw>,
    /// The input's path, for custom rules limited to some paths.
    path: &'a str,
    /// Kubeconfig documents already parsed for their `server`.
    servers: kubeconfig_server::Servers,
}

impl Scanner {
    /// A scanner with the built-in rules and the current time.
    pub fn new() -> Scanner {
        // ok: the built-in keyword set is fixed and tested to compile.
        ScannerBuilder::default()
            .build()
            .expect("built-in rules compile")
    }

    /// The configuration this scanner was built with, if any.
    pub fn config(&self) -> Option<&Config> {
        self.config.as_deref()
    }

    /// Starts configuring a scanner.
    pub fn builder() -> ScannerBuilder {
        ScannerBuilder::default()
    }

    fn now(&self) -> i64 {
        self.now.unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64)
        })
    }

    /// Scans one in-memory input and returns its findings in input order.
    pub fn scan_bytes(&self, data: &[u8], origin: &Origin) -> Vec<Finding> {
        let mut out = Vec::new();
        self.scan_bytes_with(data, origin, &mut out);
        out
    }

    /// Scans one in-memory input, handing each finding to `sink` in input order.
    pub fn scan_bytes_with(&self, data: &[u8], origin: &Origin, sink: &mut dyn Sink) {
        self.scan_window(data, origin, Start::default(), 0..data.len(), sink);
    }

    /// Scans a stream in bounded memory: chunks of the configured size that overlap by
    /// [`CHUNK_OVERLAP`], so a credential crossing a chunk boundary is found once, with its
    /// true line number. Returns the number of bytes read.
    pub fn scan_reader<R: Read>(
        &self,
        mut reader: R,
        origin: &Origin,
        sink: &mut dyn Sink,
    ) -> io::Result<u64> {
        let half = CHUNK_OVERLAP / 2;
        // Zeroed once: readers that hand back little at a time (gzip, pipes) must not cost
        // a fill of the rest of the chunk on every call.
        let mut buf: Vec<u8> = vec![0; self.chunk_size + CHUNK_OVERLAP];
        let mut len = 0usize;
        let mut at = Start::default();
        let mut first = true;
        let mut total: u64 = 0;
        loop {
            let target = len + self.chunk_size;
            if buf.len() < target {
                buf.resize(target, 0);
            }
            let mut eof = false;
            while len < target {
                match reader.read(&mut buf[len..target]) {
                    Ok(0) => {
                        eof = true;
                        break;
                    }
                    Ok(n) => {
                        len += n;
                        total += n as u64;
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        // Scan what arrived before the error, then report it.
                        let own_start = if first { 0 } else { half.min(len) };
                        self.scan_window(&buf[..len], origin, at, own_start..len, sink);
                        return Err(e);
                    }
                }
            }
            let own_start = if first { 0 } else { half.min(len) };
            let own_end = if eof { len } else { len - half };
            self.scan_window(&buf[..len], origin, at, own_start..own_end, sink);
            if eof {
                return Ok(total);
            }
            let drop = len - CHUNK_OVERLAP;
            at = at.after(Span::of(&buf[..drop]));
            buf.copy_within(drop..len, 0);
            len -= drop;
            first = false;
        }
    }

    /// Scans `data`, a window of a bigger input that starts `at` it, and reports the
    /// findings that start inside `own` (the rest of `data` is context shared with the
    /// neighbouring windows), in whole-input coordinates.
    pub(crate) fn scan_window(
        &self,
        data: &[u8],
        origin: &Origin,
        at: Start,
        own: std::ops::Range<usize>,
        sink: &mut dyn Sink,
    ) {
        let budget = self.decode_budget.unwrap_or_else(|| {
            DECODE_BUDGET.saturating_add(data.len().saturating_mul(DECODE_PER_BYTE))
        });
        let mut state = State {
            now: self.now(),
            budget,
            over_budget: false,
            out: Vec::new(),
            path: &origin.path,
            servers: Default::default(),
        };
        let top = Layer {
            data,
            open_start: at.offset > 0 || own.start > 0,
            steps: Vec::new(),
            parent: None,
        };
        self.scan_layer(&mut state, &top, 0);
        if state.over_budget {
            sink.incomplete(
                crate::problem::Problem::DecodeBudget,
                &format!(
                    "decoding stopped at its budget of {budget} decoded bytes: some encoded \
                     text in this input was not decoded"
                ),
            );
        }
        if state.out.is_empty() {
            return;
        }
        let mut raws = state.out;
        raws.retain(|r| own.contains(&r.start));
        raws.sort_by(|a, b| {
            (a.start, &a.rule_id, &a.secret).cmp(&(b.start, &b.rule_id, &b.secret))
        });
        raws.dedup_by(|a, b| a.start == b.start && a.rule_id == b.rule_id && a.secret == b.secret);
        let mut lines = LineIndex::new(data);
        for r in raws {
            if suppress::inline_allowed(data, r.start, r.end) {
                sink.suppressed();
                continue;
            }
            let verdict = match &self.config {
                Some(cfg) => cfg.policy.judge(
                    &r.rule_id,
                    data,
                    r.start,
                    &r.secret,
                    r.matched.as_deref(),
                    origin,
                ),
                None => Verdict::Keep(None),
            };
            let Verdict::Keep(severity_override) = verdict else {
                sink.suppressed();
                continue;
            };
            let (line, column) = lines.locate(r.start);
            let (end_line, end_column) = lines.locate(r.end.max(r.start + 1));
            let info = rules::builtin(&r.rule_id);
            let mut token = r.token;
            if let (Some(keys), Some(t)) = (&self.keys, token.as_mut()) {
                // The secret of every finding that carries token details is the JWT itself.
                let v = keys.verify(&r.secret);
                t.signature = v.status;
                t.verified_key_id = v.key_id;
            }
            let severity = severity_override.or(r.severity).unwrap_or_else(|| {
                let s = analyse::severity_for(&r.rule_id, token.as_ref());
                r.certificate
                    .as_ref()
                    .map_or(s, analyse::severity_for_certificate)
            });
            let description = r
                .description
                .unwrap_or_else(|| info.map_or("", |i| i.description).to_owned());
            let secret_digest = self.fingerprints.secret_digest(&r.secret);
            let token_id = (r.rule_id == rules::K8S_BOOTSTRAP_TOKEN)
                .then(|| rules::bootstrap::public_id(&r.secret))
                .flatten();
            let mut finding = Finding {
                fingerprint: fingerprint::fingerprint(&secret_digest, &r.rule_id, &origin.path),
                credential_id: fingerprint::credential_id(&secret_digest),
                secret_digest: Some(secret_digest),
                rule_id: r.rule_id.into_owned(),
                severity,
                description,
                path: origin.path.clone(),
                line,
                column,
                end_line,
                end_column,
                byte_offset: r.start as u64,
                byte_length: (r.end - r.start) as u64,
                secret: Secret::new(r.secret),
                decoded_from: r.steps.iter().map(|s| s.as_str().to_owned()).collect(),
                repository: None,
                git: origin.git.clone(),
                also_in: Vec::new(),
                token,
                certificate: r.certificate,
                token_id,
                context: origin.context.clone(),
                api_server: r.api_server,
                live: None,
            };
            at.place(&mut finding);
            sink.finding(finding);
        }
    }

    fn emit(&self, state: &mut State, layer: &Layer<'_>, c: Candidate) {
        let start = layer.to_input(c.start);
        let end = if c.end > c.start {
            layer.to_input(c.end - 1) + 1
        } else {
            start + 1
        };
        let mut steps = layer.steps.clone();
        steps.extend(c.steps);
        // Bearer tokens remember the API server of the kubeconfig that holds them. The
        // input's own documents are parsed once per input; a decoded layer is read afresh.
        let api_server = (rules::is_kubernetes_bearer(&c.rule_id) || c.rule_id == rules::JWT)
            .then(|| {
                let mut fresh = kubeconfig_server::Servers::default();
                let cache = match layer.parent {
                    None => &mut state.servers,
                    Some(_) => &mut fresh,
                };
                kubeconfig_server::server_for(cache, layer.data, c.start, &c.secret)
            })
            .flatten();
        state.out.push(Raw {
            rule_id: c.rule_id,
            start,
            end: end.max(start + 1),
            secret: c.secret,
            token: c.token,
            certificate: c.certificate,
            steps,
            description: c.description,
            matched: c.matched,
            api_server,
            severity: c.severity,
        });
    }

    fn scan_layer(&self, state: &mut State, layer: &Layer<'_>, depth: usize) {
        let data = layer.data;
        let mut consumed = 0usize;
        let mut runs = Runs::default();
        let mut kube = kubeconfig::Memo::default();
        let top = layer.parent.is_none().then_some(state.path);
        let mut static_files = static_file::Reader::new(data, top, layer.open_start);
        for hit in self.prefilter.hits(data) {
            // Base64 hits inside a run already decoded may need it decoded at their own
            // alignment (see `Runs`); other hits there are done with.
            let b64 = matches!(hit.trigger, Trigger::Base64 | Trigger::Jwt);
            if hit.start < consumed && !b64 {
                continue;
            }
            match hit.trigger {
                Trigger::Jwt => {
                    // Inside base64 text decoded already, a token may still be glued to it.
                    let jwt = if hit.start < consumed && !runs.covers(hit.start) {
                        None
                    } else {
                        jwt::at(data, hit.start, state.now)
                    };
                    if let Some(c) = jwt {
                        consumed = c.end;
                        self.emit(state, layer, c);
                    } else if let Some(end) = jwt::percent_encoded(data, hit.start) {
                        // `%2E` for its dots, in a URL or a query string.
                        consumed = end;
                        let mut d = decode::unescape_percent(&data[hit.start..end]);
                        shift(&mut d, hit.start);
                        self.rescan(state, layer, depth, d, Step::Percent);
                    } else {
                        // Not a JWT: base64 of some other JSON object, which may hold one
                        // (`{"cfg": "<base64 of a token>"}`).
                        let at = (&mut runs, &mut consumed);
                        self.base64_run(state, layer, depth, hit.start, 0, at);
                    }
                }
                Trigger::Base64 => {
                    let at = (&mut runs, &mut consumed);
                    self.base64_run(state, layer, depth, hit.start, hit.phase as usize, at);
                }
                Trigger::Pem => {
                    if let Some(c) = pem::at(data, hit.start) {
                        consumed = c.end;
                        self.emit(state, layer, c);
                    }
                }
                Trigger::PercentPem => {
                    let end = data[hit.start..]
                        .iter()
                        .position(|&b| {
                            b.is_ascii_whitespace()
                                || matches!(b, b'"' | b'\'' | b'&' | b'<' | b'>')
                        })
                        .map_or(data.len(), |p| hit.start + p)
                        .min(hit.start + MAX_RUN);
                    consumed = end;
                    let mut d = decode::unescape_percent(&data[hit.start..end]);
                    shift(&mut d, hit.start);
                    self.rescan(state, layer, depth, d, Step::Percent);
                }
                Trigger::KubeconfigKey => {
                    let c = kubeconfig::at(data, hit.start, hit.end, state.now, &mut kube)
                        .or_else(|| bootstrap::keyed(data, hit.start))
                        .or_else(|| kubectl::flag(data, hit.start));
                    if let Some(c) = c {
                        consumed = c.end;
                        self.emit(state, layer, c);
                    }
                }
                Trigger::BootstrapKey => {
                    let c = bootstrap::keyed(data, hit.start)
                        .or_else(|| kubectl::flag(data, hit.start));
                    if let Some(c) = c {
                        consumed = c.end;
                        self.emit(state, layer, c);
                    }
                }
                Trigger::BootstrapList => {
                    for c in bootstrap::token_list(data, hit.start) {
                        consumed = c.end;
                        self.emit(state, layer, c);
                    }
                }
                Trigger::Kubeadm => {
                    for c in bootstrap::kubeadm_line(data, hit.start) {
                        self.emit(state, layer, c);
                    }
                }
                Trigger::BootstrapSecret => {
                    if let Some(c) = bootstrap::token_secret(data, hit.start, hit.end) {
                        self.emit(state, layer, c);
                    }
                }
                Trigger::DockerConfig => {
                    if let Some((cands, end)) = dockerconfig::at(data, hit.end) {
                        consumed = end;
                        for c in cands {
                            self.emit(state, layer, c);
                        }
                    }
                }
                Trigger::StaticTokenFile => static_files.token_file(hit.start),
                Trigger::JsonEscapedYaml => {
                    if let Some(range) = enclosing_json_string(data, hit.start, consumed) {
                        consumed = range.end;
                        let mut d = decode::unescape_json(&data[range.clone()]);
                        shift(&mut d, range.start);
                        self.rescan(state, layer, depth, d, Step::JsonEscape);
                    }
                }
            }
        }
        for c in static_files.finish() {
            self.emit(state, layer, c);
        }
        if let Some(cfg) = &self.config {
            self.scan_custom(state, layer, cfg);
        }
    }

    /// Runs the configuration's custom rules over one layer.
    fn scan_custom(&self, state: &mut State, layer: &Layer<'_>, cfg: &Config) {
        if cfg.rules.is_empty() {
            return;
        }
        let hits = self.prefilter.custom_hits(layer.data);
        let mut found = Vec::new();
        cfg.rules.scan(layer.data, hits, state.path, &mut found);
        for c in found {
            self.emit(state, layer, c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scanner_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Scanner>();
    }
}
