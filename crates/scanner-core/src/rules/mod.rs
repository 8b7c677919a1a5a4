//! The built-in rules: their stable ids and metadata, and one detector module per family.

pub(crate) mod bootstrap;
pub(crate) mod client_cert;
pub(crate) mod custom;
pub mod detector;
pub(crate) mod dockerconfig;
pub(crate) mod jwt;
pub(crate) mod kubeconfig;
pub(crate) mod kubeconfig_server;
pub(crate) mod kubectl;
pub(crate) mod pem;
pub(crate) mod placeholder;
pub(crate) mod static_file;
pub(crate) mod wrapped;

pub(crate) use placeholder::is_placeholder;

use crate::finding::Severity;

/// Static description of a rule, as listed by `leakscan rules` and in SARIF `tool.driver.rules`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleInfo {
    /// Stable id.
    pub id: &'static str,
    /// One-line description.
    pub description: &'static str,
    /// Severity before per-finding adjustments (expiry, verification).
    pub severity: Severity,
    /// What to do about it (SARIF `help.text`).
    pub help: &'static str,
}

/// Legacy Secret-based service-account token.
pub const K8S_SA_TOKEN_LEGACY: &str = "k8s-sa-token-legacy";
/// Bound (TokenRequest / projected) service-account token.
pub const K8S_SA_TOKEN_BOUND: &str = "k8s-sa-token-bound";
/// kubeadm bootstrap token.
pub const K8S_BOOTSTRAP_TOKEN: &str = "k8s-bootstrap-token";
/// Static bearer token of a kubeconfig user.
pub const KUBECONFIG_TOKEN: &str = "kubeconfig-token";
/// Client key of a kubeconfig user.
pub const KUBECONFIG_CLIENT_KEY: &str = "kubeconfig-client-key";
/// OIDC auth-provider secret of a kubeconfig user.
pub const KUBECONFIG_OIDC_TOKEN: &str = "kubeconfig-oidc-token";
/// Basic-auth password of a kubeconfig user.
pub const KUBECONFIG_PASSWORD: &str = "kubeconfig-password";
/// Bearer token in a kube-apiserver `--token-auth-file` CSV.
pub const K8S_STATIC_TOKEN: &str = "k8s-static-token";
/// Password in a kube-apiserver `--basic-auth-file` CSV.
pub const K8S_STATIC_PASSWORD: &str = "k8s-static-password";
/// Registry credentials in a dockerconfigjson Secret.
pub const K8S_DOCKERCONFIGJSON: &str = "k8s-dockerconfigjson";
/// Any other valid JWT.
pub const JWT: &str = "jwt";
/// PEM private key.
pub const PRIVATE_KEY: &str = "private-key";

/// Every built-in rule, in the order `leakscan rules` lists them.
pub const BUILTIN_RULES: &[RuleInfo] = &[
    RuleInfo {
        id: K8S_SA_TOKEN_LEGACY,
        description: "Kubernetes legacy service-account token (Secret-based, never expires)",
        severity: Severity::Critical,
        help: "Delete the Secret that holds this token (kubectl delete secret -n NAMESPACE SECRET) to revoke it, then purge it from where it leaked. Legacy tokens never expire.",
    },
    RuleInfo {
        id: K8S_SA_TOKEN_BOUND,
        description: "Kubernetes bound service-account token (TokenRequest / projected)",
        severity: Severity::High,
        help: "Valid until it expires: delete the bound object (pod or secret) to invalidate it early, or rotate the service-account signing key.",
    },
    RuleInfo {
        id: K8S_BOOTSTRAP_TOKEN,
        description: "kubeadm bootstrap token (lets a machine join the cluster)",
        severity: Severity::High,
        help: "Delete it with kubeadm token delete TOKEN_ID (or delete the bootstrap-token-ID Secret in kube-system).",
    },
    RuleInfo {
        id: KUBECONFIG_TOKEN,
        description: "Static bearer token of a kubeconfig user",
        severity: Severity::High,
        help: "Remove the token from the static token file / identity provider that issued it and distribute a new kubeconfig.",
    },
    RuleInfo {
        id: KUBECONFIG_CLIENT_KEY,
        description: "Client certificate private key of a kubeconfig user",
        severity: Severity::High,
        help: "Client certificates cannot be revoked in Kubernetes: remove the user's RBAC bindings, and rotate the cluster CA if the identity is privileged (e.g. system:masters).",
    },
    RuleInfo {
        id: KUBECONFIG_OIDC_TOKEN,
        description: "OIDC id-token, refresh-token or client-secret of a kubeconfig auth-provider",
        severity: Severity::High,
        help: "Revoke the refresh token / rotate the client secret at the identity provider.",
    },
    RuleInfo {
        id: KUBECONFIG_PASSWORD,
        description: "Basic-auth password of a kubeconfig user",
        severity: Severity::High,
        help: "Change the password at the authenticating proxy or webhook; basic auth was removed from kube-apiserver in 1.19.",
    },
    RuleInfo {
        id: K8S_STATIC_TOKEN,
        description: "Static bearer token in a kube-apiserver --token-auth-file CSV",
        severity: Severity::High,
        help: "Remove the row from the token file on every control-plane node and restart kube-apiserver (it reads the file only at start-up); the token never expires until then. A row in system:masters is critical: it bypasses RBAC.",
    },
    RuleInfo {
        id: K8S_STATIC_PASSWORD,
        description: "Basic-auth password in a kube-apiserver --basic-auth-file CSV",
        severity: Severity::High,
        help: "Remove the row from the basic-auth file and restart kube-apiserver (basic auth was removed in 1.19; check whether a proxy still reads the file), and change the password wherever it is reused.",
    },
    RuleInfo {
        id: K8S_DOCKERCONFIGJSON,
        description: "Container registry credentials in a kubernetes.io/dockerconfigjson Secret",
        severity: Severity::High,
        help: "Rotate the registry password or access token and update the pull secret.",
    },
    RuleInfo {
        id: JWT,
        description: "JSON Web Token (not a Kubernetes service-account token)",
        severity: Severity::Medium,
        help: "Find the issuer from the iss claim and revoke the token or rotate its signing key.",
    },
    RuleInfo {
        id: PRIVATE_KEY,
        description: "PEM private key",
        severity: Severity::High,
        help: "Treat the key as compromised: replace it and revoke any certificate issued for it.",
    },
];

/// Looks up a built-in rule by id.
pub fn builtin(id: &str) -> Option<&'static RuleInfo> {
    BUILTIN_RULES.iter().find(|r| r.id == id)
}

/// Rules whose secret is a bearer token a Kubernetes API server accepts: service-account
/// tokens, kubeconfig user tokens, bootstrap tokens, static token file rows.
pub fn is_kubernetes_bearer(rule_id: &str) -> bool {
    matches!(
        rule_id,
        K8S_SA_TOKEN_LEGACY
            | K8S_SA_TOKEN_BOUND
            | KUBECONFIG_TOKEN
            | K8S_BOOTSTRAP_TOKEN
            | K8S_STATIC_TOKEN
    )
}

/// How far rules look for the start or end of a line; beyond it a "line" is data, not text
/// a person wrote, and bounding it keeps every hit's cost constant on single-line giants.
pub(crate) const MAX_LINE: usize = 64 * 1024;

/// Start of the line holding `pos`, or `None` when it lies more than [`MAX_LINE`] back.
pub(crate) fn line_start(data: &[u8], pos: usize) -> Option<usize> {
    let lo = pos.saturating_sub(MAX_LINE);
    match memchr::memrchr(b'\n', &data[lo..pos]) {
        Some(p) => Some(lo + p + 1),
        None if lo == 0 => Some(0),
        None => None,
    }
}

/// End of the line holding `pos` (the `\n` or end of data), at most [`MAX_LINE`] ahead.
pub(crate) fn line_end(data: &[u8], pos: usize) -> usize {
    let hi = (pos + MAX_LINE).min(data.len());
    memchr::memchr(b'\n', &data[pos..hi]).map_or(hi, |p| pos + p)
}

/// A YAML or JSON scalar value: its span in the buffer and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Value<'a> {
    pub start: usize,
    pub end: usize,
    pub text: &'a str,
}

/// Reads the value after a key that ends at `key_end` (the byte after the key name, i.e.
/// at `:` for YAML or at the closing `"` for JSON). Single-line values only.
pub(crate) fn value_after_key(data: &[u8], key_end: usize) -> Option<Value<'_>> {
    let line_end = line_end(data, key_end);
    let mut i = key_end;
    if data.get(i) == Some(&b'"') {
        i += 1;
    }
    while i < line_end && matches!(data[i], b' ' | b'\t') {
        i += 1;
    }
    if data.get(i) != Some(&b':') {
        return None;
    }
    i += 1;
    while i < line_end && matches!(data[i], b' ' | b'\t') {
        i += 1;
    }
    if i >= line_end {
        return None;
    }
    let (start, end) = match data[i] {
        q @ (b'"' | b'\'') => {
            let mut j = i + 1;
            while j < line_end && !(data[j] == q && data[j - 1] != b'\\') {
                j += 1;
            }
            if j >= line_end {
                return None;
            }
            (i + 1, j)
        }
        _ => {
            let mut j = i;
            while j < line_end && !matches!(data[j], b',' | b'}' | b'\r') {
                // A YAML comment starts at " #".
                if data[j] == b'#' && j > i && data[j - 1] == b' ' {
                    break;
                }
                j += 1;
            }
            while j > i && data[j - 1].is_ascii_whitespace() {
                j -= 1;
            }
            (i, strip_string_end(data, i, j))
        }
    };
    let text = std::str::from_utf8(&data[start..end]).ok()?;
    Some(Value { start, end, text })
}

/// The end of an unquoted value at `start..end` without the close of a string of code that
/// holds the whole document (`token: X\`;` in a TypeScript template, `X""";` in a Java text
/// block, `X'''))` closing two Python calls): quotes or backticks, then the brackets and `;`
/// that close the expressions around the string. Without a quote nothing is stripped: a
/// password may end in `)`.
fn strip_string_end(data: &[u8], start: usize, end: usize) -> usize {
    /// More closers than this after a string are not code that holds a document.
    const MAX_CLOSERS: usize = 8;
    let mut k = end;
    while k > start && end - k < MAX_CLOSERS && matches!(data[k - 1], b';' | b')' | b']') {
        k -= 1;
    }
    let quotes = data[start..k]
        .iter()
        .rev()
        .take_while(|&&b| matches!(b, b'`' | b'"' | b'\''))
        .count();
    if quotes == 0 {
        end
    } else {
        k - quotes
    }
}

/// Walks back from `pos` over key characters (`[A-Za-z0-9_.-]`) to where the key starts.
pub(crate) fn key_start(data: &[u8], pos: usize) -> usize {
    let mut s = pos;
    while s > 0
        && (data[s - 1].is_ascii_alphanumeric() || matches!(data[s - 1], b'-' | b'_' | b'.'))
    {
        s -= 1;
    }
    s
}

/// Walks forward from `pos` over key characters to where the key ends.
pub(crate) fn key_end(data: &[u8], pos: usize) -> usize {
    let mut e = pos;
    while e < data.len()
        && (data[e].is_ascii_alphanumeric() || matches!(data[e], b'-' | b'_' | b'.'))
    {
        e += 1;
    }
    e
}
