//! A fake Kubernetes API server for live-verification tests: HTTPS on 127.0.0.1 with a
//! cluster CA made by rcgen, answering `SelfSubjectReview` and `SelfSubjectRulesReview` the
//! way the Kubernetes API reference describes them, and counting every connection and
//! request so tests can assert that none was made.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// Who a token is and what it may do, per namespace (`resourceRules`).
#[derive(Clone)]
pub struct Identity {
    pub username: String,
    pub uid: String,
    pub groups: Vec<String>,
    pub rules: HashMap<String, Vec<Value>>,
}

/// How the server behaves.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Answers per the API reference.
    Answer,
    /// Accepts connections and never says a word.
    Hang,
    /// Authenticates tokens but forbids them the SelfSubjectReview (RBAC without the
    /// default `system:basic-user` binding): 403 with the API server's message.
    ForbidReview,
    /// A server older than Kubernetes 1.27: no SelfSubjectReview API (404).
    NoReviewApi,
}

#[derive(Default)]
struct Counters {
    connections: AtomicUsize,
    requests: AtomicUsize,
    /// "METHOD PATH namespace" per request, for asserting what was asked.
    log: Mutex<Vec<String>>,
}

/// A running fake API server; stops when dropped.
pub struct FakeApiServer {
    pub url: String,
    /// PEM of the CA that signed the server certificate (the cluster's ca.crt).
    pub ca_pem: String,
    counters: Arc<Counters>,
    stop: Arc<AtomicBool>,
}

impl FakeApiServer {
    /// Starts a server on an ephemeral loopback port.
    pub fn start(tokens: HashMap<String, Identity>, mode: Mode) -> FakeApiServer {
        let (ca_pem, config) = tls_config();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!(
            "https://127.0.0.1:{}",
            listener.local_addr().unwrap().port()
        );
        let counters = Arc::new(Counters::default());
        let stop = Arc::new(AtomicBool::new(false));
        let (c, s, tokens) = (Arc::clone(&counters), Arc::clone(&stop), Arc::new(tokens));
        thread::spawn(move || {
            // Bounded: at most a minute, and it ends as soon as the test drops the server.
            let deadline = Instant::now() + Duration::from_secs(60);
            while !s.load(Ordering::Relaxed) && Instant::now() < deadline {
                match listener.accept() {
                    Ok((stream, _)) => {
                        c.connections.fetch_add(1, Ordering::SeqCst);
                        let (c, s, t, cfg) = (
                            Arc::clone(&c),
                            Arc::clone(&s),
                            Arc::clone(&tokens),
                            Arc::clone(&config),
                        );
                        thread::spawn(move || match mode {
                            Mode::Hang => hang(stream, &s),
                            _ => serve(stream, cfg, &t, &c, mode),
                        });
                    }
                    Err(_) => thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        FakeApiServer {
            url,
            ca_pem,
            counters,
            stop,
        }
    }

    /// TCP connections accepted so far.
    pub fn connections(&self) -> usize {
        self.counters.connections.load(Ordering::SeqCst)
    }

    /// HTTP requests received so far.
    pub fn requests(&self) -> usize {
        self.counters.requests.load(Ordering::SeqCst)
    }

    /// What was asked, one "METHOD PATH [namespace]" per request.
    pub fn log(&self) -> Vec<String> {
        self.counters.log.lock().unwrap().clone()
    }
}

impl Drop for FakeApiServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn tls_config() -> (String, Arc<rustls::ServerConfig>) {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    };
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, "kubernetes");
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_pem = ca.self_signed(&ca_key).unwrap().pem();
    let issuer = Issuer::new(ca, ca_key);
    let leaf_key = KeyPair::generate().unwrap();
    let mut leaf =
        CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
    leaf.distinguished_name
        .push(DnType::CommonName, "kube-apiserver");
    let cert = leaf.signed_by(&leaf_key, &issuer).unwrap();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into());
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![cert.der().clone()], key)
    .unwrap();
    (ca_pem, Arc::new(config))
}

fn hang(stream: TcpStream, stop: &AtomicBool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(20));
    }
    drop(stream);
}

fn status(code: u16, reason: &str, message: &str) -> (u16, Value) {
    (
        code,
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
               "message": message, "reason": reason, "code": code}),
    )
}

fn answer(
    method: &str,
    path: &str,
    headers: &HashMap<String, String>,
    body: &Value,
    tokens: &HashMap<String, Identity>,
    mode: Mode,
) -> (u16, Value) {
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.strip_prefix("Bearer "));
    let Some(who) = bearer.and_then(|t| tokens.get(t)) else {
        return status(401, "Unauthorized", "Unauthorized");
    };
    if method != "POST" {
        return status(
            405,
            "MethodNotAllowed",
            "the server does not allow this method",
        );
    }
    match path {
        "/apis/authentication.k8s.io/v1/selfsubjectreviews" if mode == Mode::NoReviewApi => status(
            404,
            "NotFound",
            "the server could not find the requested resource",
        ),
        "/apis/authentication.k8s.io/v1/selfsubjectreviews" if mode == Mode::ForbidReview => {
            let message = format!(
                "selfsubjectreviews.authentication.k8s.io is forbidden: User \"{}\" cannot \
                 create resource \"selfsubjectreviews\" in API group \"authentication.k8s.io\" \
                 at the cluster scope",
                who.username
            );
            status(403, "Forbidden", &message)
        }
        "/apis/authentication.k8s.io/v1/selfsubjectreviews" => {
            if body["kind"] != "SelfSubjectReview"
                || body["apiVersion"] != "authentication.k8s.io/v1"
            {
                return status(400, "BadRequest", "expected a SelfSubjectReview");
            }
            (
                201,
                json!({"kind": "SelfSubjectReview", "apiVersion": "authentication.k8s.io/v1",
                       "metadata": {"creationTimestamp": null},
                       "status": {"userInfo": {"username": who.username, "uid": who.uid,
                                               "groups": who.groups}}}),
            )
        }
        "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews" => {
            if body["kind"] != "SelfSubjectRulesReview" {
                return status(400, "BadRequest", "expected a SelfSubjectRulesReview");
            }
            let ns = body["spec"]["namespace"].as_str().unwrap_or_default();
            // Everyone may discover their own identity (system:basic-user).
            let mut rules = vec![
                json!({"verbs": ["create"], "apiGroups": ["authorization.k8s.io"],
                                         "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]}),
            ];
            rules.extend(who.rules.get(ns).cloned().unwrap_or_default());
            (
                201,
                json!({"kind": "SelfSubjectRulesReview", "apiVersion": "authorization.k8s.io/v1",
                       "metadata": {"creationTimestamp": null}, "spec": {},
                       "status": {"resourceRules": rules,
                                  "nonResourceRules": [{"verbs": ["get"], "nonResourceURLs": ["/api", "/api/*", "/version"]}],
                                  "incomplete": false}}),
            )
        }
        _ => status(
            404,
            "NotFound",
            "the server could not find the requested resource",
        ),
    }
}

fn serve(
    stream: TcpStream,
    config: Arc<rustls::ServerConfig>,
    tokens: &HashMap<String, Identity>,
    counters: &Counters,
    mode: Mode,
) {
    stream.set_nonblocking(false).ok();
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok();
    let Ok(conn) = rustls::ServerConnection::new(config) else {
        return;
    };
    let tls = rustls::StreamOwned::new(conn, stream);
    let mut reader = BufReader::new(tls);
    // Keep-alive: answer requests until the client closes (bounded).
    for _ in 0..16 {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let mut headers = HashMap::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
            }
        }
        let len: usize = headers
            .get("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0u8; len.min(1 << 20)];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let mut parts = request_line.split_whitespace();
        let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        counters.requests.fetch_add(1, Ordering::SeqCst);
        let ns = body["spec"]["namespace"].as_str().unwrap_or_default();
        counters
            .log
            .lock()
            .unwrap()
            .push(format!("{method} {path} {ns}").trim_end().to_owned());
        let (code, reply) = answer(method, path, &headers, &body, tokens, mode);
        let text = reply.to_string();
        let reason = match code {
            201 => "Created",
            401 => "Unauthorized",
            403 => "Forbidden",
            404 => "Not Found",
            _ => "Error",
        };
        let out = format!(
            "HTTP/1.1 {code} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{text}",
            text.len()
        );
        let tls = reader.get_mut();
        if tls
            .write_all(out.as_bytes())
            .and_then(|_| tls.flush())
            .is_err()
        {
            return;
        }
    }
}
