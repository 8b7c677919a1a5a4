//! A token's blast radius: the riskiest permissions in a `SelfSubjectRulesReview`, the way
//! `kubectl auth can-i --list` shows them, reduced to what an attacker would reach for.

use serde_json::Value;

fn strings(rule: &Value, key: &str) -> Vec<String> {
    rule.get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect()
}

/// The risky permissions `resourceRules` grant in `namespace`, e.g. `kube-system: * *`,
/// `payments: get,list secrets`, `payments: create pods`, `impersonate users`,
/// `escalate,bind clusterroles`. Rules limited to named objects (`resourceNames`) are left
/// out: they reach one object, not the namespace.
pub(crate) fn risky(rules: &[Value], namespace: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |s: String| {
        if !out.contains(&s) {
            out.push(s);
        }
    };
    for rule in rules {
        if !strings(rule, "resourceNames").is_empty() {
            continue;
        }
        let verbs = strings(rule, "verbs");
        let resources = strings(rule, "resources");
        let all_verbs = verbs.iter().any(|v| v == "*");
        let on = |wanted: &[&'static str]| -> Vec<&'static str> {
            if all_verbs {
                return wanted.to_vec();
            }
            wanted
                .iter()
                .copied()
                .filter(|w| verbs.iter().any(|v| v == w))
                .collect()
        };
        let has = |r: &str| resources.iter().any(|x| x == r || x == "*");
        if all_verbs && resources.iter().any(|r| r == "*") {
            push(format!("{namespace}: * *"));
            continue;
        }
        let checks: [(&str, &[&str]); 6] = [
            ("secrets", &["get", "list", "watch"]),
            ("pods", &["create"]),
            ("pods/exec", &["create"]),
            ("serviceaccounts/token", &["create"]),
            ("roles", &["escalate", "bind"]),
            ("clusterroles", &["escalate", "bind"]),
        ];
        for (resource, wanted) in checks {
            let v = on(wanted);
            if has(resource) && !v.is_empty() {
                push(format!("{namespace}: {} {resource}", v.join(",")));
            }
        }
        for who in ["users", "groups", "serviceaccounts"] {
            if has(who) && !on(&["impersonate"]).is_empty() {
                push(format!("{namespace}: impersonate {who}"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn summarises_like_can_i_list() {
        let rules = [
            json!({"verbs": ["get", "list"], "apiGroups": [""], "resources": ["secrets"]}),
            json!({"verbs": ["create"], "apiGroups": [""], "resources": ["pods", "configmaps"]}),
            json!({"verbs": ["get"], "apiGroups": [""], "resources": ["secrets"], "resourceNames": ["one"]}),
            json!({"verbs": ["impersonate"], "apiGroups": [""], "resources": ["serviceaccounts"]}),
            json!({"verbs": ["get", "list", "watch"], "apiGroups": [""], "resources": ["pods"]}),
        ];
        assert_eq!(
            risky(&rules, "payments"),
            [
                "payments: get,list secrets",
                "payments: create pods",
                "payments: impersonate serviceaccounts"
            ]
        );
        let admin = [json!({"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]})];
        assert_eq!(risky(&admin, "kube-system"), ["kube-system: * *"]);
        let rbac = [
            json!({"verbs": ["bind", "get"], "apiGroups": ["rbac.authorization.k8s.io"], "resources": ["clusterroles"]}),
        ];
        assert_eq!(risky(&rbac, "ns"), ["ns: bind clusterroles"]);
    }
}
