//! Credentials of kubeconfig users: `token`, `password`, `client-key-data` under `user:`,
//! and `id-token` / `refresh-token` / `client-secret` under `auth-provider: config:`.
//!
//! Common words like `token` and `password` are only findings inside that structure, which
//! is checked from the hit backwards: by indentation for YAML, by brace nesting for JSON.

use crate::analyse;
use crate::candidate::Candidate;
use crate::decode::{self, Step};
use crate::rules::detector::{Detector, Example, Expect};
use crate::rules::{
    self, bootstrap, client_cert, is_placeholder, jwt, pem, placeholder, value_after_key, wrapped,
};

/// How far back the structure check looks for enclosing keys.
const LOOKBACK: usize = 16 * 1024;

/// The line that encloses a YAML line: its key's range, its line start, its key indentation.
type Parent = (std::ops::Range<usize>, usize, usize);

/// How many indentation levels [`Memo`] remembers.
const MEMO_LEVELS: usize = 8;

/// Enclosing-key lookups already made in one buffer. Keys on consecutive lines at the same
/// indentation (a list of `password:` / `token:` lines) have the same parent unless a line
/// between them is less indented, so each lookup walks back only to the previous key at its
/// indentation instead of up to [`LOOKBACK`] bytes: linear instead of 16 KiB per hit.
#[derive(Debug, Default)]
pub(crate) struct Memo {
    /// (line start, key indentation, its parent), at most one per indentation.
    yaml: Vec<(usize, usize, Option<Parent>)>,
    /// JSON: (offset of an object at depth 0 that a walk stood before, the keys it found
    /// beyond that object), for the latest walks.
    json: Vec<(usize, Vec<std::ops::Range<usize>>)>,
}

impl Memo {
    fn remember(&mut self, line_start: usize, indent: usize, parent: Option<Parent>) {
        match self.yaml.iter_mut().find(|e| e.1 == indent) {
            Some(e) => *e = (line_start, indent, parent),
            None => {
                if self.yaml.len() == MEMO_LEVELS {
                    self.yaml.remove(0);
                }
                self.yaml.push((line_start, indent, parent));
            }
        }
    }
}

/// Key of the line that encloses line `line_start` in YAML (the nearest earlier line with
/// smaller indentation).
fn yaml_parent(data: &[u8], line_start: usize, indent: usize, memo: &mut Memo) -> Option<Parent> {
    let lo = line_start.saturating_sub(LOOKBACK);
    // A key at this indentation seen earlier (within the look-back): lines before it give
    // the same answer, so only the lines in between need looking at.
    let known = memo
        .yaml
        .iter()
        .find(|e| e.1 == indent && e.0 <= line_start && e.0 >= lo)
        .map(|e| (e.0, e.2.clone()));
    if let Some((at, parent)) = &known {
        if *at == line_start {
            return parent.clone();
        }
    }
    let stop = known.as_ref().map_or(lo, |k| k.0);
    let parent = match (yaml_parent_walk(data, line_start, indent, stop), known) {
        (Some(found), _) => found,
        (None, Some((_, p))) => p,
        (None, None) => None,
    };
    memo.remember(line_start, indent, parent.clone());
    parent
}

/// Walks back line by line from `line_start`, not before `lo`, to the first line less
/// indented than `indent`: `Some` of its key (`Some(None)` when it has none, e.g. `---`),
/// or `None` when no such line lies after `lo`.
fn yaml_parent_walk(
    data: &[u8],
    line_start: usize,
    indent: usize,
    lo: usize,
) -> Option<Option<Parent>> {
    let mut end = line_start;
    while end > lo {
        // `end` is the start of the line below; the line above ends at end - 1.
        let prev_end = end - 1;
        let start = memchr::memrchr(b'\n', &data[lo..prev_end]).map_or(lo, |p| lo + p + 1);
        let line = &data[start..prev_end];
        end = start;
        let margin = quote_margin(line);
        let spaces = line[margin..].iter().take_while(|&&b| b == b' ').count();
        let rest = &line[margin + spaces..];
        if rest.is_empty() || rest[0] == b'#' || rest == b"\r" {
            continue;
        }
        // "- key:" puts the key two columns further in.
        let (key_indent, key_off) = match rest.strip_prefix(b"- ") {
            Some(_) => (spaces + 2, margin + spaces + 2),
            None => (spaces, margin + spaces),
        };
        if key_indent < indent {
            let key_text = &line[key_off..];
            let Some(colon) = memchr::memchr(b':', key_text) else {
                return Some(None);
            };
            let (mut ks, mut ke) = (start + key_off, start + key_off + colon);
            while ks < ke && data[ks].is_ascii_whitespace() {
                ks += 1;
            }
            while ke > ks && data[ke - 1].is_ascii_whitespace() {
                ke -= 1;
            }
            if ke - ks >= 2 && data[ks] == b'"' && data[ke - 1] == b'"' {
                ks += 1;
                ke -= 1;
            }
            return Some(Some((ks..ke, start, key_indent)));
        }
        if start == lo {
            break;
        }
    }
    None
}

/// Length of the Markdown blockquote markers that start `line` (`> `, `  > > `): YAML quoted
/// in an issue or a README counts its indentation from there. Zero on other lines.
fn quote_margin(line: &[u8]) -> usize {
    let mut margin = 0;
    loop {
        let spaces = line[margin..].iter().take_while(|&&b| b == b' ').count();
        if line.get(margin + spaces) != Some(&b'>') {
            return margin;
        }
        margin += spaces + 1;
        if line.get(margin) == Some(&b' ') {
            margin += 1;
        }
    }
}

/// Enclosing keys of a YAML key indented `indent` columns (after any blockquote margin) on
/// the line starting at `line_start`, innermost first (up to two).
fn yaml_ancestors<'a>(
    data: &'a [u8],
    line_start: usize,
    indent: usize,
    memo: &mut Memo,
) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let (mut ls, mut ind) = (line_start, indent);
    while out.len() < 2 {
        match yaml_parent(data, ls, ind, memo) {
            Some((key, start, key_indent)) => {
                out.push(&data[key]);
                ls = start;
                ind = key_indent;
            }
            None => break,
        }
    }
    out
}

/// Enclosing object keys of `pos` in JSON, innermost first (up to two): walks back counting
/// braces to each enclosing `{`, then reads the `"key":` before it.
///
/// Each walk remembers where it first stood before an object at depth 0 and what it found
/// beyond: the walk from the next element of an array reaches that same state after
/// crossing one sibling, and takes the rest from memory instead of walking back over every
/// earlier sibling (16 KiB per key on an array of `{"password": ...}` objects).
fn json_ancestors<'a>(data: &'a [u8], pos: usize, memo: &mut Memo) -> Vec<&'a [u8]> {
    let lo = pos.saturating_sub(LOOKBACK);
    let mut out: Vec<std::ops::Range<usize>> = Vec::new();
    let mut checkpoint: Option<(usize, usize)> = None;
    let mut i = pos;
    let mut depth = 0usize;
    'walk: while i > lo && out.len() < 2 {
        i -= 1;
        match data[i] {
            b'}' | b']' => depth += 1,
            b'[' if depth > 0 => depth -= 1,
            b'{' if depth > 1 => depth -= 1,
            b'{' => {
                let element = if depth == 1 {
                    depth = 0;
                    true
                } else {
                    // Read `"key"\s*:\s*` backwards from i.
                    let mut j = i;
                    while j > lo && data[j - 1].is_ascii_whitespace() {
                        j -= 1;
                    }
                    if j == lo || data[j - 1] != b':' {
                        // An array element or the top level: no key names this object.
                        if j > lo && matches!(data[j - 1], b'[' | b',') {
                            true
                        } else {
                            break;
                        }
                    } else {
                        j -= 1;
                        while j > lo && data[j - 1].is_ascii_whitespace() {
                            j -= 1;
                        }
                        if j == lo || data[j - 1] != b'"' {
                            break;
                        }
                        let close = j - 1;
                        let Some(open) = memchr::memrchr(b'"', &data[lo..close]).map(|p| lo + p)
                        else {
                            break;
                        };
                        out.push(open + 1..close);
                        i = open;
                        false
                    }
                };
                if element {
                    // At `i` with depth 0: a state an earlier walk may have been in.
                    if let Some((_, rest)) = memo.json.iter().find(|e| e.0 == i) {
                        out.extend(rest.iter().cloned());
                        break 'walk;
                    }
                    checkpoint.get_or_insert((i, out.len()));
                }
            }
            _ => {}
        }
    }
    out.truncate(2);
    if let Some((at, k)) = checkpoint {
        if memo.json.len() == MEMO_LEVELS {
            memo.json.remove(0);
        }
        memo.json.push((at, out[k.min(out.len())..].to_vec()));
    }
    out.into_iter().map(|r| &data[r]).collect()
}

/// The kubeconfig credential whose key contains the keyword hit at `hit_start..hit_end`.
pub(crate) fn at(
    data: &[u8],
    hit_start: usize,
    hit_end: usize,
    now: i64,
    memo: &mut Memo,
) -> Option<Candidate> {
    let ks = rules::key_start(data, hit_start);
    // Keywords `token:` / `token"` end one past the key; others may be part of a longer key.
    let ke = if matches!(data[hit_end - 1], b':' | b'"') {
        hit_end - 1
    } else {
        rules::key_end(data, hit_end)
    };
    let key = &data[ks..ke];
    // Cheapest checks first: most hits are `token:` / `password` outside any kubeconfig.
    if !matches!(
        key,
        b"token"
            | b"password"
            | b"client-key-data"
            | b"id-token"
            | b"refresh-token"
            | b"client-secret"
    ) {
        return None;
    }
    let json = ks > 0 && data[ks - 1] == b'"';
    // YAML keys sit at the start of their line (after indentation, "- " or a blockquote's
    // "> "); checked first, by walking back over the indentation only, as a key in the
    // middle of a long line is no kubeconfig key.
    let yaml_line = if json {
        None
    } else {
        let mut ls = ks;
        while ls > 0 && matches!(data[ls - 1], b' ' | b'-' | b'>') {
            ls -= 1;
        }
        if ls > 0 && data[ls - 1] != b'\n' {
            return None;
        }
        let indent = ks - ls - quote_margin(&data[ls..ks]);
        if indent == 0 {
            // A top-level key has no enclosing `user:`.
            return None;
        }
        Some((ls, indent))
    };
    let ancestors = match yaml_line {
        None => json_ancestors(data, ks - 1, memo),
        Some((ls, indent)) => yaml_ancestors(data, ls, indent, memo),
    };
    let parent = ancestors.first().copied();
    let grandparent = ancestors.get(1).copied();
    let in_user = parent == Some(b"user".as_slice());
    let in_auth_provider =
        parent == Some(b"config".as_slice()) && grandparent == Some(b"auth-provider".as_slice());
    if !in_user && !in_auth_provider {
        return None;
    }
    let value = value_after_key(data, ke)?;
    let text = value.text;
    if is_placeholder(text) {
        return None;
    }
    let mut c = match key {
        b"token" if in_user => {
            // A JWT is reported by the JWT rule, with its claims.
            if text.starts_with("eyJ") && wrapped::token(data, value.start).is_some() {
                return None;
            }
            if !placeholder::looks_generated(text) {
                return None;
            }
            // A kubelet's bootstrap kubeconfig holds a bootstrap token.
            if bootstrap::is_token(text.as_bytes()) {
                if bootstrap::is_dummy(text) {
                    return None;
                }
                return Some(Candidate::new(
                    rules::K8S_BOOTSTRAP_TOKEN,
                    value.start,
                    value.end,
                    text.to_owned(),
                ));
            }
            Candidate::new(
                rules::KUBECONFIG_TOKEN,
                value.start,
                value.end,
                text.to_owned(),
            )
        }
        // Passwords may be weak and still real; only names stand in for one.
        b"password" if in_user && !placeholder::is_name(text) => Candidate::new(
            rules::KUBECONFIG_PASSWORD,
            value.start,
            value.end,
            text.to_owned(),
        ),
        b"client-key-data" if in_user => {
            let mut c = Candidate::new(
                rules::KUBECONFIG_CLIENT_KEY,
                value.start,
                value.end,
                text.to_owned(),
            );
            if text.starts_with("-----BEGIN") {
                if !pem::contains_private_key(text.as_bytes()) {
                    return None;
                }
            } else {
                let decoded = decode::decode_base64(text.as_bytes())?;
                if !pem::contains_private_key(&decoded.bytes) {
                    return None;
                }
                c.steps.push(Step::Base64);
            }
            c.certificate = client_cert::sibling(data, ks)
                .and_then(|der| analyse::describe_certificate(&der, now));
            c
        }
        b"id-token" | b"refresh-token" | b"client-secret" if in_auth_provider => {
            if text.len() < 8 {
                return None;
            }
            let mut c = Candidate::new(
                rules::KUBECONFIG_OIDC_TOKEN,
                value.start,
                value.end,
                text.to_owned(),
            );
            if let Some(j) = jwt::parse(data, value.start) {
                c.token = Some(analyse::classify(&j.header, &j.claims, now).1);
            }
            c
        }
        _ => return None,
    };
    c.description = None;
    Some(c)
}

/// Users of kubeconfig files in the layouts `kubectl config view --raw` and people write.
pub(crate) const DETECTOR: Detector = Detector {
    name: "kubeconfig",
    rules: &[
        rules::KUBECONFIG_TOKEN,
        rules::KUBECONFIG_CLIENT_KEY,
        rules::KUBECONFIG_OIDC_TOKEN,
        rules::KUBECONFIG_PASSWORD,
    ],
    keywords: &["token", "password", "client-key-data", "client-secret"],
    examples: &[
        Example {
            path: ".kube/config",
            text: "apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    certificate-authority-data: DATA+OMITTED\n    server: https://203.0.113.10:6443\n  name: edge\ncontexts:\n- context:\n    cluster: edge\n    user: ci\n  name: edge\ncurrent-context: edge\nusers:\n- name: ci\n  user:\n    token: {{opaque-token}}\n- name: admin\n  user:\n    client-certificate-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==\n    client-key-data: {{b64:private-key}}\n- name: ops\n  user:\n    username: ops\n    password: {{password}}\n",
            expect: &[
                Expect { rule: rules::KUBECONFIG_TOKEN, line: 17, secret: "{{opaque-token}}" },
                Expect { rule: rules::KUBECONFIG_CLIENT_KEY, line: 21, secret: "{{b64:private-key}}" },
                Expect { rule: rules::KUBECONFIG_PASSWORD, line: 25, secret: "{{password}}" },
            ],
        },
        Example {
            // `kubectl config view -o json --raw`.
            path: "backup/kubeconfig.json",
            text: "{\n    \"kind\": \"Config\",\n    \"apiVersion\": \"v1\",\n    \"users\": [\n        {\n            \"name\": \"ci\",\n            \"user\": {\n                \"token\": \"{{opaque-token-2}}\"\n            }\n        }\n    ]\n}\n",
            expect: &[Expect { rule: rules::KUBECONFIG_TOKEN, line: 8, secret: "{{opaque-token-2}}" }],
        },
        Example {
            path: ".kube/config",
            text: "users:\n- name: oidc\n  user:\n    auth-provider:\n      name: oidc\n      config:\n        client-id: kubernetes\n        client-secret: {{opaque-token}}\n        idp-issuer-url: https://sso.example.com/realms/ops\n        refresh-token: {{opaque-token-2}}\n",
            expect: &[
                Expect { rule: rules::KUBECONFIG_OIDC_TOKEN, line: 8, secret: "{{opaque-token}}" },
                Expect { rule: rules::KUBECONFIG_OIDC_TOKEN, line: 10, secret: "{{opaque-token-2}}" },
            ],
        },
        Example {
            // A service-account token as a user's token keeps its own rule.
            path: "ci/kubeconfig.yaml",
            text: "users:\n- name: deployer\n  user:\n    token: {{legacy-jwt}}\n",
            expect: &[Expect { rule: rules::K8S_SA_TOKEN_LEGACY, line: 4, secret: "{{legacy-jwt}}" }],
        },
        Example {
            // Placeholders, templates and `kubectl config view` without --raw.
            path: ".kube/config",
            text: "users:\n- name: kubelet\n  user:\n    token: KUBELET_TOKEN\n- name: blue\n  user:\n    token: blue-token\n- name: helm\n  user:\n    token: \"{{ .Values.kubelet.token }}\"\n- name: admin\n  user:\n    client-certificate-data: DATA+OMITTED\n    client-key-data: DATA+OMITTED\n    password: ${PASSWORD}\n",
            expect: &[],
        },
        Example {
            // `password:` outside a kubeconfig user is some other application's.
            path: "config/app.yaml",
            text: "database:\n  host: db.internal\n  password: s3cr3tP4ssw0rd!\n",
            expect: &[],
        },
    ],
};

#[cfg(test)]
mod tests {
    use super::*;

    fn find(text: &str, kw: &str) -> Option<Candidate> {
        let s = text.find(kw).unwrap();
        at(text.as_bytes(), s, s + kw.len(), 0, &mut Memo::default())
    }

    #[test]
    fn yaml_user_token() {
        let text = "users:\n- name: admin\n  user:\n    token: 8f2kq9x7m3n5p1w4z6r0\n";
        let c = find(text, "token:").unwrap();
        assert_eq!(c.rule_id, rules::KUBECONFIG_TOKEN);
        assert_eq!(c.secret, "8f2kq9x7m3n5p1w4z6r0");
    }

    #[test]
    fn token_outside_a_user_is_ignored() {
        let text =
            "steps:\n  - uses: actions/checkout@v4\n    with:\n      token: 8f2kq9x7m3n5p1w4z6r0\n";
        assert!(find(text, "token:").is_none());
    }

    #[test]
    fn json_auth_provider() {
        let text = r#"{"users":[{"name":"a","user":{"auth-provider":{"config":{"client-secret":"s3cr3t-v4lue-123"},"name":"oidc"}}}]}"#;
        let c = find(text, "client-secret").unwrap();
        assert_eq!(c.rule_id, rules::KUBECONFIG_OIDC_TOKEN);
        assert_eq!(c.secret, "s3cr3t-v4lue-123");
    }

    /// Looks up every `password` and `token_key` hit once with a shared memo and once
    /// fresh, asserts both agree, and returns the secrets found.
    fn remembered_equals_fresh(text: &str, token_key: &str) -> Vec<String> {
        let data = text.as_bytes();
        let mut memo = Memo::default();
        let mut shared = Vec::new();
        let mut fresh = Vec::new();
        for (i, _) in text
            .match_indices("password")
            .chain(text.match_indices(token_key))
        {
            let end = if data[i] == b't' { i + 6 } else { i + 8 };
            shared.push(at(data, i, end, 0, &mut memo).map(|c| c.secret));
            fresh.push(at(data, i, end, 0, &mut Memo::default()).map(|c| c.secret));
        }
        assert_eq!(shared, fresh);
        shared.into_iter().flatten().collect()
    }

    #[test]
    fn remembered_lookups_give_the_answers_of_fresh_ones() {
        let text = "users:\n- name: a\n  user:\n    token: 8f2kq9x7m3n5p1w4z6r0\n    password: p4ssw0rd-one\n    # note\n    password: p4ssw0rd-two\nsteps:\n  with:\n    token: 8f2kq9x7m3n5p1w4z6r0\n    password: p4ssw0rd-three\n  user:\n    password: p4ssw0rd-four\n---\n    password: p4ssw0rd-five\n";
        let found = remembered_equals_fresh(text, "token:");
        assert_eq!(
            found,
            [
                "p4ssw0rd-one",
                "p4ssw0rd-two",
                "p4ssw0rd-four",
                "8f2kq9x7m3n5p1w4z6r0"
            ]
        );
    }

    #[test]
    fn json_siblings_share_one_walk_and_give_the_answers_of_fresh_ones() {
        let mut text =
            String::from(r#"{"users":[{"name":"a","user":{"token":"8f2kq9x7m3n5p1w4z6r0"}},"#);
        text.push_str(r#"{"items":["#);
        for i in 0..500 {
            text.push_str(&format!(
                r#"{{"password":"s3cr3t-{i}","n":[1,{{"x":2}}]}},"#
            ));
        }
        text.push_str(r#"{"user":{"password":"p4ssw0rd-last"}}]}]}"#);
        let found = remembered_equals_fresh(&text, "token\"");
        assert_eq!(found, ["p4ssw0rd-last", "8f2kq9x7m3n5p1w4z6r0"]);
    }

    #[test]
    fn blockquoted_yaml_counts_indentation_after_the_markers() {
        let text = "> users:\n> - name: a\n>   user:\n>     token: 8f2kq9x7m3n5p1w4z6r0\n";
        assert_eq!(find(text, "token:").unwrap().secret, "8f2kq9x7m3n5p1w4z6r0");
        let nested =
            "  > > users:\n  > > - name: a\n  > >   user:\n  > >     password: Xk9#qPz2mW\n";
        assert_eq!(find(nested, "password").unwrap().secret, "Xk9#qPz2mW");
        // Quoted, but a workflow's `token:` and a top-level key, not a kubeconfig user's.
        let workflow = "> steps:\n>   - with:\n>       token: 8f2kq9x7m3n5p1w4z6r0\n";
        assert!(find(workflow, "token:").is_none());
        assert!(find("> token: 8f2kq9x7m3n5p1w4z6r0\n", "token:").is_none());
        assert_eq!(quote_margin(b"  > >   token:"), 6);
        assert_eq!(quote_margin(b"    token:"), 0);
    }

    #[test]
    fn redacted_values_are_ignored() {
        let text =
            "users:\n- name: a\n  user:\n    client-key-data: DATA+OMITTED\n    token: REDACTED\n";
        assert!(find(text, "client-key-data").is_none());
        assert!(find(text, "token:").is_none());
    }
}
