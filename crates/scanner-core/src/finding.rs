//! What the scanner reports: one [`Finding`] per leaked credential.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// How urgent a finding is; orders from `Info` (least) to `Critical` (most).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing, not a credential on its own.
    Info,
    /// Expired or otherwise unusable credential.
    Low,
    /// A credential of unknown reach (e.g. a generic JWT).
    #[default]
    Medium,
    /// A usable credential (unexpired bound token, kubeconfig secret, private key).
    High,
    /// A credential that opens a cluster and never expires (or is proven live).
    Critical,
}

impl Severity {
    /// Lower-case name as used in JSON and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// GitHub code scanning's `security-severity` score (0.0–10.0) for this level.
    pub fn security_severity(self) -> &'static str {
        match self {
            Severity::Info => "0.0",
            Severity::Low => "3.0",
            Severity::Medium => "5.5",
            Severity::High => "8.0",
            Severity::Critical => "9.5",
        }
    }

    /// SARIF `level` for this severity.
    pub fn sarif_level(self) -> &'static str {
        match self {
            Severity::Critical | Severity::High => "error",
            Severity::Medium => "warning",
            Severity::Low | Severity::Info => "note",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "info" => Ok(Severity::Info),
            "low" => Ok(Severity::Low),
            "medium" => Ok(Severity::Medium),
            "high" => Ok(Severity::High),
            "critical" => Ok(Severity::Critical),
            other => Err(format!(
                "unknown severity {other:?} (expected info, low, medium, high or critical)"
            )),
        }
    }
}

/// A secret value that only shows itself when asked to.
///
/// `Debug`, `Display` and `Serialize` all print the redacted form, so a finding can be
/// logged or serialised without leaking the credential by accident. Read back from a
/// report (`leakscan merge`), a redacted secret stays redacted: it is recognised by its
/// form and never redacted a second time.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Secret {
    value: String,
    /// `value` is already the redacted form (read from a redacted report).
    redacted: bool,
}

/// What ends the redacted form: `…[REDACTED N chars]`.
const REDACTED_MARK: &str = "…[REDACTED ";

impl Secret {
    /// Wraps a raw secret.
    pub fn new(raw: impl Into<String>) -> Self {
        Secret {
            value: raw.into(),
            redacted: false,
        }
    }

    /// The raw secret; call only when the user asked for `--show-secrets`. A secret read
    /// from a redacted report has no raw form left: this is its redacted form.
    pub fn expose(&self) -> &str {
        &self.value
    }

    /// Whether only the redacted form is known (the secret came from a redacted report).
    pub fn is_redacted(&self) -> bool {
        self.redacted
    }

    /// A short, non-reversible rendering: a few leading characters and the length.
    pub fn redacted(&self) -> String {
        if self.redacted {
            return self.value.clone();
        }
        let n = self.value.chars().count();
        // JWT and PEM prefixes ("eyJhbG", "-----BEGIN") carry no secret bits; short secrets
        // show nothing at all.
        let keep = if n >= 24 {
            6
        } else if n >= 12 {
            2
        } else {
            0
        };
        let head: String = self.value.chars().take(keep).collect();
        format!("{head}{REDACTED_MARK}{n} chars]")
    }

    /// Whether `s` is what [`Secret::redacted`] makes: at most six characters, the mark, a
    /// number, ` chars]`.
    fn looks_redacted(s: &str) -> bool {
        let Some((head, rest)) = s.split_once(REDACTED_MARK) else {
            return false;
        };
        let Some(n) = rest.strip_suffix(" chars]") else {
            return false;
        };
        head.chars().count() <= 6 && !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({})", self.redacted())
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.redacted())
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = String::deserialize(d)?;
        let redacted = Secret::looks_redacted(&value);
        Ok(Secret { value, redacted })
    }
}

/// Where in history a finding came from (git scans only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct GitInfo {
    /// Full commit id that introduced the blob at this path.
    pub commit: String,
    /// Author name of that commit.
    pub author_name: String,
    /// Author e-mail of that commit.
    pub author_email: String,
    /// Author date, RFC 3339.
    pub date: String,
    /// First line of the commit message.
    pub message: String,
}

/// Outcome of checking a JWT's signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum SignatureStatus {
    /// No key was available to check it.
    #[default]
    Unverified,
    /// A supplied key verified the signature.
    Valid,
    /// Keys were tried and none verified it.
    Invalid,
}

/// Which kind of token a JWT is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TokenKind {
    /// Secret-based service-account token: never expires.
    LegacyServiceAccount,
    /// TokenRequest / projected service-account token.
    BoundServiceAccount,
    /// Any other JWT.
    #[default]
    Other,
}

/// What a JWT says about itself: whom it authenticates, where, and until when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[non_exhaustive]
pub struct TokenInfo {
    /// Legacy, bound or other.
    pub kind: TokenKind,
    /// `iss` claim.
    pub issuer: Option<String>,
    /// `sub` claim.
    pub subject: Option<String>,
    /// `jti` claim: what the audit log names a bound token by
    /// (`authentication.kubernetes.io/credential-id: JTI=…`); no use to anyone without the token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    /// Kubernetes namespace the token belongs to.
    pub namespace: Option<String>,
    /// Service account name.
    pub service_account: Option<String>,
    /// Service account UID.
    pub service_account_uid: Option<String>,
    /// Secret holding a legacy token, or the secret a bound token is bound to.
    pub secret_name: Option<String>,
    /// Pod a bound token is bound to.
    pub pod: Option<String>,
    /// Node a bound token is bound to.
    pub node: Option<String>,
    /// `aud` claim (string or array, normalised to a list).
    pub audiences: Vec<String>,
    /// `iat`, RFC 3339.
    pub issued_at: Option<String>,
    /// `nbf`, RFC 3339.
    pub not_before: Option<String>,
    /// `exp`, RFC 3339; `None` means the token never expires.
    pub expires_at: Option<String>,
    /// Whether `exp` lies before the scan's notion of "now".
    pub expired: bool,
    /// `kid` header.
    pub key_id: Option<String>,
    /// `alg` header.
    pub algorithm: String,
    /// Signature check result.
    pub signature: SignatureStatus,
    /// Id of the key that verified the signature (`kid`, or `FILE#N` for a PEM key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified_key_id: Option<String>,
    /// Where this exact token is published as a sample (jwt.io, RFC 7519): not a secret,
    /// reported as `info` so that a responder sees it was looked at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published_sample: Option<String>,
}

/// The client certificate beside a leaked client key: whose it is and until when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[non_exhaustive]
pub struct CertificateInfo {
    /// Subject distinguished name.
    pub subject: String,
    /// Subject CN: the Kubernetes user name.
    pub user: Option<String>,
    /// Subject O entries: the user's Kubernetes groups.
    pub groups: Vec<String>,
    /// Issuer distinguished name (the cluster CA).
    pub issuer: String,
    /// `notBefore`, RFC 3339.
    pub not_before: String,
    /// `notAfter`, RFC 3339: the API server accepts it until then.
    pub not_after: String,
    /// Whether `notAfter` lies before the scan's notion of "now".
    pub expired: bool,
    /// SHA-256 of the certificate's DER, hex: the audit log's `X509SHA256=` credential id.
    pub sha256: String,
}

/// One leaked credential, located in its source.
///
/// Serialises to the JSON report's finding object and reads back from it (`leakscan
/// merge`): every field but the secret's digest, which never leaves the process.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Finding {
    /// Stable rule id, e.g. `k8s-sa-token-legacy`.
    pub rule_id: String,
    /// How urgent it is.
    pub severity: Severity,
    /// One-line human description.
    pub description: String,
    /// Path relative to the scan root; archive members as `ARCHIVE!/MEMBER`.
    pub path: String,
    /// 1-based line of the first byte.
    pub line: usize,
    /// 1-based byte column of the first byte.
    pub column: usize,
    /// 1-based line of the last byte.
    pub end_line: usize,
    /// 1-based byte column just past the last byte (SARIF's exclusive `endColumn`).
    pub end_column: usize,
    /// Offset of the first byte from the start of the input.
    pub byte_offset: u64,
    /// Bytes of the input the credential spans (SARIF `byteLength` of binary inputs).
    #[serde(default)]
    pub byte_length: u64,
    /// The credential (serialises redacted).
    pub secret: Secret,
    /// Stable id of rule id, secret and path that does not confirm a guessed secret (see
    /// `fingerprint.rs`: keyed, or Argon2id for guessable secrets).
    pub fingerprint: String,
    /// Stable id of the credential alone: one per secret however many places hold it, so
    /// reports (and `leakscan merge`) group locations; as guess-resistant as `fingerprint`.
    pub credential_id: String,
    /// The secret's digest the fingerprint is made of (kept so a new path can be
    /// fingerprinted without the key or the slow hash again); `None` for a finding read
    /// back from a report, which never holds it.
    #[serde(skip)]
    pub(crate) secret_digest: Option<[u8; 32]>,
    /// Decoding steps that revealed it, outermost first; empty when found as is.
    #[serde(default)]
    pub decoded_from: Vec<String>,
    /// The repository a history finding is in, as given on the command line (`leakscan git
    /// REPO…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// Commit provenance for history scans.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git: Option<GitInfo>,
    /// Further commits/paths where the same blob was introduced (history scans).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also_in: Vec<GitLocation>,
    /// Decoded JWT details.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<TokenInfo>,
    /// The client certificate of a leaked kubeconfig client key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<CertificateInfo>,
    /// Public id of a bootstrap token (the six characters before the dot, which name Secret
    /// `kube-system/bootstrap-token-ID` and the audit log's `system:bootstrap:ID` user);
    /// never the secret half.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_id: Option<String>,
    /// Source-specific context, e.g. Slack channel, date and poster.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub context: BTreeMap<String, String>,
    /// `server` of the kubeconfig document the credential was found in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_server: Option<String>,
    /// What the API server said about the token (`--verify-live` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live: Option<crate::verify::LiveCheck>,
}

/// Another place in history where the same content was introduced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GitLocation {
    /// Path at that commit.
    pub path: String,
    /// The commit that introduced it there.
    pub git: GitInfo,
}

/// The first step of `decoded_from` for a credential found in binary content (a NUL byte
/// in the input's first 8 KiB): its `line` and `column` count `\n` bytes as `grep -an`
/// does, and `byte_offset` is where to look.
pub const BINARY_STEP: &str = "binary";

impl Finding {
    /// Whether it was found in binary content (see [`BINARY_STEP`]).
    pub fn in_binary(&self) -> bool {
        self.decoded_from.first().is_some_and(|s| s == BINARY_STEP)
    }

    /// Recomputes [`Finding::fingerprint`] after its rule id or path changed; a finding
    /// read back from a report has no digest to do it with and keeps its fingerprint.
    pub fn refresh_fingerprint(&mut self) {
        if let Some(d) = &self.secret_digest {
            self.fingerprint = crate::fingerprint::fingerprint(d, &self.rule_id, &self.path);
        }
    }

    /// The fingerprint leakscan 0.1 gave this finding (unkeyed SHA-256), for baselines
    /// written by it.
    pub fn legacy_fingerprint(&self) -> String {
        crate::fingerprint::legacy_v1(&self.rule_id, self.secret.expose(), &self.path)
    }
}
