//! The API server a kubeconfig credential belongs to: the `server` of the cluster that the
//! same kubeconfig document pairs with the credential's user through a context.
//!
//! This is the only place a server URL is taken from scanned data, and only from the very
//! document that holds the credential, so a URL elsewhere in a file never receives a token.

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

/// Bounds of the YAML document (between `---` lines) that holds `pos`, or `None` when it
/// reaches further than [`MAX_DOC`] either way (then it is not a kubeconfig).
fn document(data: &[u8], pos: usize) -> Option<std::ops::Range<usize>> {
    let lo = pos.saturating_sub(MAX_DOC);
    let start = memchr::memmem::rfind_iter(&data[lo..pos], b"\n---")
        .map(|i| lo + i + 1)
        .find(|&s| separator_at(data, s))
        .map(|s| memchr::memchr(b'\n', &data[s..]).map_or(data.len(), |p| s + p + 1));
    let start = match start {
        Some(s) => s,
        None if lo == 0 => 0,
        None => return None,
    };
    let hi = (pos + MAX_DOC).min(data.len());
    let end = memchr::memmem::find_iter(&data[pos..hi], b"\n---")
        .map(|i| pos + i + 1)
        .find(|&s| separator_at(data, s));
    let end = match end {
        Some(e) => e,
        None if hi == data.len() => data.len(),
        None => return None,
    };
    Some(start.min(end)..end)
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

/// Whether `v` (a user entry) holds `secret` anywhere beneath it.
fn holds(v: &Value, secret: &str) -> bool {
    match v {
        Value::String(s) => s == secret,
        Value::Array(a) => a.iter().any(|x| holds(x, secret)),
        Value::Object(m) => m.values().any(|x| holds(x, secret)),
        _ => false,
    }
}

/// Resolves user → contexts → cluster → `server` in a parsed kubeconfig; with one cluster
/// only, that cluster's server.
fn resolve(doc: &Value, secret: &str) -> Option<String> {
    let server_of = |cluster: &str| {
        named(doc, "clusters")
            .find(|(n, _)| *n == cluster)
            .and_then(|(_, c)| c.get("cluster")?.get("server")?.as_str())
            .map(str::to_owned)
    };
    let user = named(doc, "users").find(|(_, u)| holds(u, secret));
    if let Some((user, _)) = user {
        let current = doc.get("current-context").and_then(Value::as_str);
        let mut clusters: Vec<(&str, &str)> = named(doc, "contexts")
            .filter_map(|(name, c)| {
                let ctx = c.get("context")?;
                (ctx.get("user")?.as_str()? == user)
                    .then_some((name, ctx.get("cluster")?.as_str()?))
            })
            .collect();
        // The current context wins when the user is paired with several clusters.
        clusters.sort_by_key(|(name, _)| Some(*name) != current);
        if let Some(server) = clusters.iter().find_map(|(_, c)| server_of(c)) {
            return Some(server);
        }
    }
    let all: Vec<&str> = named(doc, "clusters")
        .filter_map(|(_, c)| c.get("cluster")?.get("server")?.as_str())
        .collect();
    match all.as_slice() {
        [only] => Some((*only).to_owned()),
        _ => None,
    }
}

/// The API server for the credential `secret` found at `pos`, when `data` around it is a
/// kubeconfig (YAML document or JSON object) that names one.
pub(crate) fn server_for(data: &[u8], pos: usize, secret: &str) -> Option<String> {
    // Bearer tokens sit under a user's `token` key. Checking that first keeps this off the
    // scan's cost for the many JWTs in logs and headers, which never are kubeconfig users.
    let key = &data[pos.saturating_sub(KEY_REACH).min(pos)..pos.min(data.len())];
    memchr::memmem::find(key, b"token")?;
    let doc = &data[document(data, pos)?];
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
    let server = resolve(&value, secret)?;
    // Only an http(s) URL; anything else (a template, a path) is not a server to call.
    (server.starts_with("https://") || server.starts_with("http://")).then_some(server)
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
            server_for(d, at, "ci-token-0123456789").as_deref(),
            Some("https://prod.example.com:6443")
        );
        let at = TWO_CLUSTERS.find("ops-token").unwrap();
        assert_eq!(
            server_for(d, at, "ops-token-0123456789").as_deref(),
            Some("https://staging.example.com:6443")
        );
    }

    #[test]
    fn only_the_same_document_counts() {
        let text = format!(
            "{TWO_CLUSTERS}---\napiVersion: v1\nkind: ConfigMap\ndata:\n  token: other-0123456789\n"
        );
        let at = text.find("other-0123").unwrap();
        assert_eq!(server_for(text.as_bytes(), at, "other-0123456789"), None);
        // A URL in plain text is never a server.
        let log = "curl https://evil.example.com -H 'Authorization: Bearer abc'\n";
        assert_eq!(server_for(log.as_bytes(), 40, "abc"), None);
        // Not under a `token` key: not a kubeconfig user's credential, whatever surrounds it.
        let at = TWO_CLUSTERS.find("ci-token").unwrap();
        let moved = TWO_CLUSTERS.replacen("    token: ci-token", "    secret: ci-token", 1);
        assert_eq!(
            server_for(moved.as_bytes(), at + 1, "ci-token-0123456789"),
            None
        );
    }

    #[test]
    fn json_kubeconfig_with_one_cluster() {
        let text = r#"{"clusters":[{"name":"c","cluster":{"server":"https://10.0.0.1:6443"}}],"users":[{"name":"u","user":{"token":"tok-0123456789"}}]}"#;
        let at = text.find("tok-0123").unwrap();
        assert_eq!(
            server_for(text.as_bytes(), at, "tok-0123456789").as_deref(),
            Some("https://10.0.0.1:6443")
        );
    }
}
