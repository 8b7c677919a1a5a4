//! JWT claims → [`TokenInfo`]: legacy or bound service-account token, or another JWT.

use serde_json::{Map, Value};

use crate::finding::{TokenInfo, TokenKind};
use crate::rules;

const LEGACY_ISSUER: &str = "kubernetes/serviceaccount";
const LEGACY_PREFIX: &str = "kubernetes.io/serviceaccount/";

fn str_claim(m: &Map<String, Value>, key: &str) -> Option<String> {
    m.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn num_claim(m: &Map<String, Value>, key: &str) -> Option<i64> {
    let v = m.get(key)?;
    v.as_i64().or_else(|| v.as_f64().map(|f| f as i64))
}

/// Formats a Unix timestamp as RFC 3339 (UTC); out-of-range values fall back to the number.
pub fn unix_to_rfc3339(secs: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| secs.to_string())
}

/// Classifies a decoded JWT and fills a [`TokenInfo`]; returns the rule id it falls under.
///
/// `now` (Unix seconds) decides `expired`.
pub fn classify(
    header: &Map<String, Value>,
    claims: &Map<String, Value>,
    now: i64,
) -> (&'static str, TokenInfo) {
    let mut info = TokenInfo {
        issuer: str_claim(claims, "iss"),
        subject: str_claim(claims, "sub"),
        jti: str_claim(claims, "jti"),
        key_id: str_claim(header, "kid"),
        algorithm: str_claim(header, "alg").unwrap_or_default(),
        ..TokenInfo::default()
    };
    info.audiences = match claims.get("aud") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    };
    let exp = num_claim(claims, "exp");
    info.issued_at = num_claim(claims, "iat").map(unix_to_rfc3339);
    info.not_before = num_claim(claims, "nbf").map(unix_to_rfc3339);
    info.expires_at = exp.map(unix_to_rfc3339);
    info.expired = exp.is_some_and(|e| e <= now);

    let legacy_ns = str_claim(claims, &format!("{LEGACY_PREFIX}namespace"));
    if info.issuer.as_deref() == Some(LEGACY_ISSUER) || legacy_ns.is_some() {
        info.kind = TokenKind::LegacyServiceAccount;
        info.namespace = legacy_ns;
        info.secret_name = str_claim(claims, &format!("{LEGACY_PREFIX}secret.name"));
        info.service_account = str_claim(claims, &format!("{LEGACY_PREFIX}service-account.name"));
        info.service_account_uid =
            str_claim(claims, &format!("{LEGACY_PREFIX}service-account.uid"));
        fill_from_subject(&mut info);
        if info.namespace.is_some() || info.service_account.is_some() {
            return (rules::K8S_SA_TOKEN_LEGACY, info);
        }
    }

    if let Some(Value::Object(k8s)) = claims.get("kubernetes.io") {
        let name_of = |key: &str| {
            k8s.get(key)
                .and_then(Value::as_object)
                .and_then(|o| str_claim(o, "name"))
        };
        info.namespace = str_claim(k8s, "namespace");
        info.service_account = name_of("serviceaccount");
        info.service_account_uid = k8s
            .get("serviceaccount")
            .and_then(Value::as_object)
            .and_then(|o| str_claim(o, "uid"));
        info.pod = name_of("pod");
        info.secret_name = name_of("secret");
        info.node = name_of("node");
        fill_from_subject(&mut info);
        if info.namespace.is_some() && info.service_account.is_some() {
            info.kind = TokenKind::BoundServiceAccount;
            return (rules::K8S_SA_TOKEN_BOUND, info);
        }
    }

    info.kind = TokenKind::Other;
    (rules::JWT, info)
}

/// `sub` of a service-account token is `system:serviceaccount:NAMESPACE:NAME`; use it when the
/// dedicated claims are missing.
fn fill_from_subject(info: &mut TokenInfo) {
    let Some(rest) = info
        .subject
        .as_deref()
        .and_then(|s| s.strip_prefix("system:serviceaccount:"))
    else {
        return;
    };
    if let Some((ns, name)) = rest.split_once(':') {
        if info.namespace.is_none() {
            info.namespace = Some(ns.to_owned());
        }
        if info.service_account.is_none() {
            info.service_account = Some(name.to_owned());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn legacy_token_claims() {
        let claims = obj(json!({
            "iss": "kubernetes/serviceaccount",
            "kubernetes.io/serviceaccount/namespace": "kube-system",
            "kubernetes.io/serviceaccount/secret.name": "admin-token-x7k2p",
            "kubernetes.io/serviceaccount/service-account.name": "admin",
            "kubernetes.io/serviceaccount/service-account.uid": "0b5c1a4e",
            "sub": "system:serviceaccount:kube-system:admin"
        }));
        let (rule, info) = classify(&obj(json!({"alg":"RS256","kid":""})), &claims, 0);
        assert_eq!(rule, rules::K8S_SA_TOKEN_LEGACY);
        assert_eq!(info.namespace.as_deref(), Some("kube-system"));
        assert_eq!(info.secret_name.as_deref(), Some("admin-token-x7k2p"));
        assert!(!info.expired);
        assert_eq!(info.expires_at, None);
    }

    #[test]
    fn bound_token_claims_and_expiry() {
        let claims = obj(json!({
            "aud": ["https://kubernetes.default.svc"], "exp": 1_700_000_000, "iat": 1_699_996_400,
            "iss": "https://oidc.eks.eu-west-1.amazonaws.com/id/ABC",
            "kubernetes.io": {"namespace": "prod", "pod": {"name": "web-1", "uid": "u1"},
                               "serviceaccount": {"name": "web", "uid": "u2"}, "warnafter": 1_699_999_000},
            "nbf": 1_699_996_400, "sub": "system:serviceaccount:prod:web"
        }));
        let (rule, info) = classify(&obj(json!({"alg":"RS256"})), &claims, 1_800_000_000);
        assert_eq!(rule, rules::K8S_SA_TOKEN_BOUND);
        assert_eq!(info.pod.as_deref(), Some("web-1"));
        assert_eq!(info.expires_at.as_deref(), Some("2023-11-14T22:13:20Z"));
        assert!(info.expired);
    }
}
