//! Kubernetes audit events in the exact `audit.k8s.io/v1` shape kube-apiserver's log
//! backend writes: one compact JSON Event per line, stages RequestReceived then
//! ResponseComplete sharing an auditID, `responseStatus` and annotations (authorization's,
//! authentication's) only on the later stage, as in a real kubeadm cluster's log.
#![allow(dead_code)]

pub mod fixture;

use serde_json::{json, Map, Value};

/// One request to the API server.
#[derive(Clone)]
pub struct Req {
    pub audit_id: String,
    pub verb: String,
    pub uri: String,
    pub user: Value,
    pub impersonated: Option<Value>,
    pub source_ips: Vec<String>,
    pub user_agent: String,
    pub object_ref: Option<Value>,
    pub code: u16,
    /// Unix seconds when it was received.
    pub at: i64,
    pub annotations: Map<String, Value>,
    /// `RequestResponse` level: the response body (a TokenRequest's holds the token).
    pub response_object: Option<Value>,
}

/// RFC 3339 with microseconds and `Z`, as the audit log writes times.
pub fn micro_time(unix: i64, micros: u32) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(unix).unwrap()
        + time::Duration::microseconds(micros as i64);
    let f = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
    );
    t.format(&f).unwrap()
}

/// `user` of a service account authenticated by a legacy (Secret-based) token.
pub fn sa_user(ns: &str, sa: &str) -> Value {
    json!({
        "username": format!("system:serviceaccount:{ns}:{sa}"),
        "uid": "6c4a1a3e-2d4b-4f37-9d2a-0c1e5b7f9a11",
        "groups": ["system:serviceaccounts", format!("system:serviceaccounts:{ns}"), "system:authenticated"],
    })
}

/// `user` of a service account authenticated by a bound token with `jti`, bound to `pod`.
pub fn bound_user(ns: &str, sa: &str, pod: &str, jti: &str) -> Value {
    json!({
        "username": format!("system:serviceaccount:{ns}:{sa}"),
        "uid": "1e2d3c4b-5a69-4788-9a0b-c1d2e3f4a5b6",
        "groups": ["system:serviceaccounts", format!("system:serviceaccounts:{ns}"), "system:authenticated"],
        "extra": {
            "authentication.kubernetes.io/credential-id": [format!("JTI={jti}")],
            "authentication.kubernetes.io/node-name": ["ip-10-0-1-17.ec2.internal"],
            "authentication.kubernetes.io/node-uid": ["0d6f5e4c-1b2a-4c3d-8e9f-a0b1c2d3e4f5"],
            "authentication.kubernetes.io/pod-name": [pod],
            "authentication.kubernetes.io/pod-uid": ["7b2f3a1c-9d8e-4f6a-b5c4-d3e2f1a0b9c8"],
        },
    })
}

/// `user` of a client certificate (CN, O) with the SHA-256 of its DER.
pub fn cert_user(cn: &str, groups: &[&str], sha256_hex: &str) -> Value {
    let mut g: Vec<&str> = groups.to_vec();
    g.push("system:authenticated");
    json!({
        "username": cn,
        "groups": g,
        "extra": {"authentication.kubernetes.io/credential-id": [format!("X509SHA256={sha256_hex}")]},
    })
}

/// `user` of a bootstrap token.
pub fn bootstrap_user(id: &str) -> Value {
    json!({
        "username": format!("system:bootstrap:{id}"),
        "groups": ["system:bootstrappers", "system:bootstrappers:kubeadm:default-node-token", "system:authenticated"],
    })
}

/// `user` of the kubelet of a node.
pub fn node_user(node: &str) -> Value {
    json!({"username": format!("system:node:{node}"), "groups": ["system:nodes", "system:authenticated"]})
}

/// An `objectRef`; empty strings are left out, as the API server leaves them out.
pub fn obj(resource: &str, group: &str, ns: &str, name: &str, sub: &str) -> Value {
    let mut o = Map::new();
    o.insert("resource".into(), json!(resource));
    if !ns.is_empty() {
        o.insert("namespace".into(), json!(ns));
    }
    if !name.is_empty() {
        o.insert("name".into(), json!(name));
    }
    if !group.is_empty() {
        o.insert("apiGroup".into(), json!(group));
    }
    o.insert("apiVersion".into(), json!("v1"));
    if !sub.is_empty() {
        o.insert("subresource".into(), json!(sub));
    }
    Value::Object(o)
}

impl Req {
    /// A request by `user`: `verb` on `object_ref` at `at`, answered 200 (201 for create).
    pub fn new(id: &str, user: Value, verb: &str, object_ref: Value, at: i64) -> Req {
        let uri = uri_of(&object_ref, verb);
        Req {
            audit_id: id.to_owned(),
            verb: verb.to_owned(),
            uri,
            user,
            impersonated: None,
            source_ips: vec!["10.0.0.12".into()],
            user_agent: "kubectl/v1.30.2 (linux/amd64) kubernetes/3968350".into(),
            object_ref: Some(object_ref),
            code: if verb == "create" { 201 } else { 200 },
            at,
            annotations: Map::new(),
            response_object: None,
        }
    }

    pub fn from(mut self, ips: &[&str]) -> Req {
        self.source_ips = ips.iter().map(|s| s.to_string()).collect();
        self
    }

    pub fn agent(mut self, ua: &str) -> Req {
        self.user_agent = ua.to_owned();
        self
    }

    pub fn annotate(mut self, k: &str, v: &str) -> Req {
        self.annotations.insert(k.to_owned(), json!(v));
        self
    }

    pub fn code(mut self, c: u16) -> Req {
        self.code = c;
        self
    }

    pub fn impersonating(mut self, user: &str, groups: &[&str]) -> Req {
        self.impersonated = Some(json!({"username": user, "groups": groups}));
        self
    }

    pub fn responding(mut self, body: Value) -> Req {
        self.response_object = Some(body);
        self
    }

    fn event(&self, stage: &str, micros: u32) -> Value {
        let mut e = Map::new();
        e.insert("kind".into(), json!("Event"));
        e.insert("apiVersion".into(), json!("audit.k8s.io/v1"));
        let level = if self.response_object.is_some() {
            "RequestResponse"
        } else {
            "Metadata"
        };
        e.insert("level".into(), json!(level));
        e.insert("auditID".into(), json!(self.audit_id));
        e.insert("stage".into(), json!(stage));
        e.insert("requestURI".into(), json!(self.uri));
        e.insert("verb".into(), json!(self.verb));
        e.insert("user".into(), self.user.clone());
        if let Some(i) = &self.impersonated {
            e.insert("impersonatedUser".into(), i.clone());
        }
        e.insert("sourceIPs".into(), json!(self.source_ips));
        e.insert("userAgent".into(), json!(self.user_agent));
        if let Some(o) = &self.object_ref {
            e.insert("objectRef".into(), o.clone());
        }
        let later = stage != "RequestReceived";
        if later {
            e.insert(
                "responseStatus".into(),
                json!({"metadata": {}, "code": self.code}),
            );
            if stage == "ResponseComplete" {
                if let Some(body) = &self.response_object {
                    e.insert("responseObject".into(), body.clone());
                }
            }
        }
        e.insert(
            "requestReceivedTimestamp".into(),
            json!(micro_time(self.at, 611_127)),
        );
        e.insert(
            "stageTimestamp".into(),
            json!(micro_time(self.at, 611_127 + micros)),
        );
        if later {
            let mut ann = Map::new();
            ann.insert("authorization.k8s.io/decision".into(), json!("allow"));
            ann.insert(
                "authorization.k8s.io/reason".into(),
                json!("RBAC: allowed by ClusterRoleBinding \"ops\" of ClusterRole \"cluster-admin\" to Group \"ops\""),
            );
            ann.extend(self.annotations.clone());
            e.insert("annotations".into(), Value::Object(ann));
        }
        Value::Object(e)
    }

    /// RequestReceived then ResponseComplete, one line each.
    pub fn lines(&self) -> String {
        format!(
            "{}\n{}\n",
            self.event("RequestReceived", 0),
            self.event("ResponseComplete", 1_315)
        )
    }

    /// A watch: RequestReceived, ResponseStarted, ResponseComplete.
    pub fn watch_lines(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.event("RequestReceived", 0),
            self.event("ResponseStarted", 800),
            self.event("ResponseComplete", 30_000_000)
        )
    }

    /// Only RequestReceived (the log ends before the request does).
    pub fn received_only(&self) -> String {
        format!("{}\n", self.event("RequestReceived", 0))
    }
}

fn uri_of(o: &Value, verb: &str) -> String {
    let res = o["resource"].as_str().unwrap_or("");
    let mut u = match o["apiGroup"].as_str() {
        Some(g) => format!("/apis/{g}/v1"),
        None => "/api/v1".to_owned(),
    };
    if let Some(ns) = o["namespace"].as_str() {
        u.push_str(&format!("/namespaces/{ns}"));
    }
    u.push_str(&format!("/{res}"));
    if let Some(n) = o["name"].as_str() {
        u.push_str(&format!("/{n}"));
    }
    if let Some(s) = o["subresource"].as_str() {
        u.push_str(&format!("/{s}"));
    }
    match verb {
        "list" => u.push_str("?limit=500"),
        "watch" => u.push_str("?allowWatchBookmarks=true&watch=true"),
        _ => {}
    }
    u
}

/// Runs `leakscan audit ARGS` in `dir`.
pub fn audit(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    crate::support_cli::leakscan_in(dir, &[&["audit"], args].concat())
}

/// Fails if `text` holds any of the fixture's secrets.
pub fn no_secret(fx: &fixture::Fixture, what: &str, text: &str) {
    for s in &fx.secrets {
        assert!(
            !text.contains(s.as_str()),
            "{what} holds a secret ({}…)",
            &s[..8]
        );
    }
}
