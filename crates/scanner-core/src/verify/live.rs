//! Live verification (`--verify-live`, opt-in): asks a Kubernetes API server who a found
//! token is (`SelfSubjectReview`) and, for a live token, what it may do in its own namespace
//! and in `kube-system` (`SelfSubjectRulesReview`), summarised as its riskiest permissions.
//!
//! The only network code in the library. Blocking HTTPS (ureq + rustls): TLS always
//! verified, short timeouts, no redirects or proxies (a bearer token goes to the named
//! server or nowhere), a request budget, and one set of requests per distinct token and
//! server.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use ureq::tls::{PemItem, RootCerts, TlsConfig};
use ureq::Agent;

use super::check::{LiveCheck, LiveStatus};

const REVIEW_PATH: &str = "/apis/authentication.k8s.io/v1/selfsubjectreviews";
const RULES_PATH: &str = "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews";
/// Replies larger than this are not an API server's review.
const MAX_BODY: u64 = 4 * 1024 * 1024;

/// How live verification may use the network.
#[derive(Debug, Clone)]
pub struct LiveOptions {
    /// PEM files of CA certificates to trust (the cluster CA); without them, the public
    /// web PKI roots.
    pub ca_certs: Vec<std::path::PathBuf>,
    /// Connect and whole-request timeout.
    pub timeout: Duration,
    /// Most HTTP requests one run may make.
    pub budget: usize,
}

impl Default for LiveOptions {
    fn default() -> Self {
        LiveOptions {
            ca_certs: Vec::new(),
            timeout: Duration::from_secs(5),
            budget: 50,
        }
    }
}

/// Asks API servers about tokens, within a request budget, caching per token and server.
pub struct LiveVerifier {
    agent: Agent,
    budget: usize,
    requests: usize,
    cache: HashMap<(String, String), LiveCheck>,
    /// Servers that could not be reached (connection, TLS, timeout), with the reason.
    down: HashMap<String, String>,
}

impl std::fmt::Debug for LiveVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveVerifier")
            .field("budget", &self.budget)
            .field("requests", &self.requests)
            .finish_non_exhaustive()
    }
}

/// How one HTTP exchange ended.
enum Reply {
    Ok(Value),
    Status(u16, String),
    Failed(String),
}

fn load_ca(path: &Path) -> crate::Result<Vec<ureq::tls::Certificate<'static>>> {
    let bytes = std::fs::read(path).map_err(|source| crate::Error::Io {
        path: path.to_owned(),
        source,
    })?;
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(&bytes) {
        match item {
            Ok(PemItem::Certificate(c)) => certs.push(c.to_owned()),
            Ok(_) => {}
            Err(e) => {
                return Err(crate::Error::Key {
                    path: path.display().to_string(),
                    reason: format!("not a PEM certificate file: {e}"),
                })
            }
        }
    }
    if certs.is_empty() {
        return Err(crate::Error::Key {
            path: path.display().to_string(),
            reason: "no CERTIFICATE in it (expected the cluster CA, e.g. ca.crt)".into(),
        });
    }
    Ok(certs)
}

/// `https://host:6443/` + `/apis/...` without a doubled slash.
fn join(server: &str, path: &str) -> String {
    format!("{}{path}", server.trim_end_matches('/'))
}

impl LiveVerifier {
    /// Builds the HTTPS client; fails on an unreadable or empty `--ca-cert` file.
    pub fn new(opts: &LiveOptions) -> crate::Result<Self> {
        let mut certs = Vec::new();
        for p in &opts.ca_certs {
            certs.extend(load_ca(p)?);
        }
        let roots = if certs.is_empty() {
            RootCerts::WebPki
        } else {
            RootCerts::Specific(Arc::new(certs))
        };
        let agent: Agent = Agent::config_builder()
            .tls_config(TlsConfig::builder().root_certs(roots).build())
            .timeout_connect(Some(opts.timeout))
            .timeout_global(Some(opts.timeout))
            .http_status_as_error(false)
            .max_redirects(0)
            .proxy(None)
            .user_agent(concat!("leakscan/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Ok(LiveVerifier {
            agent,
            budget: opts.budget,
            requests: 0,
            cache: HashMap::new(),
            down: HashMap::new(),
        })
    }

    /// HTTP requests made so far.
    pub fn requests(&self) -> usize {
        self.requests
    }

    fn post(&mut self, server: &str, path: &str, token: &str, body: &Value) -> Reply {
        self.requests += 1;
        let sent = self
            .agent
            .post(join(server, path))
            .header("Authorization", format!("Bearer {token}"))
            .header("Accept", "application/json")
            .content_type("application/json")
            .send(body.to_string());
        let mut resp = match sent {
            Ok(r) => r,
            // ureq's messages name the host and the failure, never the request headers.
            Err(e) => return Reply::Failed(e.to_string()),
        };
        let status = resp.status().as_u16();
        let text = resp
            .body_mut()
            .with_config()
            .limit(MAX_BODY)
            .read_to_string()
            .unwrap_or_default();
        if (200..300).contains(&status) {
            match serde_json::from_str(&text) {
                Ok(v) => Reply::Ok(v),
                Err(e) => Reply::Failed(format!("HTTP {status} with a body that is not JSON: {e}")),
            }
        } else {
            let message = serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|v| v.get("message")?.as_str().map(str::to_owned))
                .unwrap_or_default();
            Reply::Status(status, message)
        }
    }

    /// Asks `servers` in order about `token` until one authenticates it; `namespace` (the
    /// token's own, when known) is where its permissions are looked up besides
    /// `kube-system`.
    pub fn check(&mut self, token: &str, servers: &[String], namespace: Option<&str>) -> LiveCheck {
        let mut best: Option<LiveCheck> = None;
        for server in servers {
            let key = (server.clone(), token.to_owned());
            let check = match self.cache.get(&key) {
                Some(c) => c.clone(),
                None => {
                    let c = self.check_one(token, server, namespace);
                    if c.status != LiveStatus::Skipped {
                        self.cache.insert(key, c.clone());
                    }
                    c
                }
            };
            let rank = |s: LiveStatus| match s {
                LiveStatus::Live => 3,
                LiveStatus::Rejected => 2,
                LiveStatus::Unreachable => 1,
                LiveStatus::Skipped => 0,
            };
            if best
                .as_ref()
                .is_none_or(|b| rank(check.status) > rank(b.status))
            {
                best = Some(check);
            }
            if best.as_ref().is_some_and(|b| b.status == LiveStatus::Live) {
                break;
            }
        }
        best.unwrap_or_else(|| LiveCheck::failed(LiveStatus::Skipped, "", "no API server to ask"))
    }

    fn spend(&mut self, n: usize) -> bool {
        if self.requests + n > self.budget {
            return false;
        }
        true
    }

    fn check_one(&mut self, token: &str, server: &str, namespace: Option<&str>) -> LiveCheck {
        if !server.starts_with("https://") {
            return LiveCheck::failed(
                LiveStatus::Skipped,
                server,
                "not an https:// URL: a token is never sent in clear text",
            );
        }
        // One timeout per server, not one per token: a server that could not be reached is
        // not asked again in this run.
        if let Some(reason) = self.down.get(server) {
            return LiveCheck::failed(
                LiveStatus::Unreachable,
                server,
                format!("not asked again after: {reason}"),
            );
        }
        if !self.spend(1) {
            return LiveCheck::failed(LiveStatus::Skipped, server, "request budget spent");
        }
        let review = json!({"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"});
        let mut check = match self.post(server, REVIEW_PATH, token, &review) {
            Reply::Ok(v) => {
                let info = v
                    .pointer("/status/userInfo")
                    .cloned()
                    .unwrap_or(Value::Null);
                let text = |k: &str| info.get(k).and_then(Value::as_str).map(str::to_owned);
                LiveCheck {
                    status: LiveStatus::Live,
                    server: server.to_owned(),
                    username: text("username"),
                    uid: text("uid"),
                    groups: info
                        .get("groups")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect(),
                    permissions: Vec::new(),
                    permissions_incomplete: false,
                    reason: None,
                }
            }
            Reply::Status(401, _) => {
                return LiveCheck::failed(LiveStatus::Rejected, server, "401 Unauthorized")
            }
            // Authenticated but not allowed to review itself: still a working credential.
            Reply::Status(403, message) => {
                let mut c = LiveCheck::failed(LiveStatus::Live, server, format!("403: {message}"));
                c.username = message
                    .split('"')
                    .nth(1)
                    .filter(|_| message.starts_with("selfsubjectreviews"))
                    .map(str::to_owned);
                c
            }
            // Kubernetes before 1.27 has no SelfSubjectReview; a rules review (1.8+) still
            // tells an authenticated token (201) from a rejected one (401), just not its name.
            Reply::Status(404, _) => match self.liveness_by_rules(token, server, namespace) {
                Some(c) => c,
                None => {
                    return LiveCheck::failed(
                        LiveStatus::Unreachable,
                        server,
                        "HTTP 404: no SelfSubjectReview API and no usable rules review",
                    )
                }
            },
            Reply::Status(code, message) => {
                return LiveCheck::failed(
                    LiveStatus::Unreachable,
                    server,
                    format!("HTTP {code} {message}").trim_end().to_owned(),
                )
            }
            Reply::Failed(reason) => {
                self.down.insert(server.to_owned(), reason.clone());
                return LiveCheck::failed(LiveStatus::Unreachable, server, reason);
            }
        };
        if check.status != LiveStatus::Live {
            return check;
        }
        let own = namespace
            .map(str::to_owned)
            .or_else(|| {
                check
                    .username
                    .as_deref()?
                    .strip_prefix("system:serviceaccount:")?
                    .split_once(':')
                    .map(|(ns, _)| ns.to_owned())
            })
            .unwrap_or_else(|| "default".to_owned());
        let mut namespaces = vec![own];
        if namespaces[0] != "kube-system" {
            namespaces.push("kube-system".to_owned());
        }
        for ns in namespaces {
            if !self.spend(1) {
                check.permissions_incomplete = true;
                check.reason = Some("request budget spent before the rules review".into());
                break;
            }
            let body = json!({
                "apiVersion": "authorization.k8s.io/v1",
                "kind": "SelfSubjectRulesReview",
                "spec": {"namespace": ns},
            });
            match self.post(server, RULES_PATH, token, &body) {
                Reply::Ok(v) => {
                    let status = v.get("status").cloned().unwrap_or(Value::Null);
                    if status.get("incomplete").and_then(Value::as_bool) == Some(true) {
                        check.permissions_incomplete = true;
                    }
                    let rules = status
                        .get("resourceRules")
                        .and_then(Value::as_array)
                        .cloned()
                        .unwrap_or_default();
                    for p in super::blast::risky(&rules, &ns) {
                        if !check.permissions.contains(&p) {
                            check.permissions.push(p);
                        }
                    }
                }
                Reply::Status(code, message) => {
                    check.permissions_incomplete = true;
                    check.reason = Some(format!("rules review in {ns}: HTTP {code} {message}"));
                }
                Reply::Failed(reason) => {
                    check.permissions_incomplete = true;
                    check.reason = Some(format!("rules review in {ns}: {reason}"));
                }
            }
        }
        check
    }

    /// Liveness from a SelfSubjectRulesReview, for servers without SelfSubjectReview:
    /// `None` when that answer says nothing either.
    fn liveness_by_rules(
        &mut self,
        token: &str,
        server: &str,
        namespace: Option<&str>,
    ) -> Option<LiveCheck> {
        if !self.spend(1) {
            return Some(LiveCheck::failed(
                LiveStatus::Skipped,
                server,
                "request budget spent",
            ));
        }
        let body = json!({
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectRulesReview",
            "spec": {"namespace": namespace.unwrap_or("default")},
        });
        let note = "no SelfSubjectReview API (Kubernetes < 1.27)";
        match self.post(server, RULES_PATH, token, &body) {
            Reply::Ok(_) | Reply::Status(403, _) => Some(LiveCheck::failed(
                LiveStatus::Live,
                server,
                format!("{note}: authenticated by a rules review"),
            )),
            Reply::Status(401, _) => Some(LiveCheck::failed(
                LiveStatus::Rejected,
                server,
                "401 Unauthorized",
            )),
            _ => None,
        }
    }
}
