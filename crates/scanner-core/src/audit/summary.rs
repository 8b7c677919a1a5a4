//! Per-credential aggregates of its requests, in bounded memory: counts are exact, lists
//! and distinct values are capped (the rest is counted), and each request is counted once
//! however many stages the log holds of it.
//!
//! Stages: a request is logged at `RequestReceived`, maybe `ResponseStarted` (watches),
//! then `ResponseComplete` (or `Panic`). It is counted at its last stage, which carries the
//! authentication annotations and the response code; a `RequestReceived` (or
//! `ResponseStarted`) with no later stage in the logs counts alone. Earlier stages wait by
//! `auditID` until their request completes, at most [`PENDING`] at a time (more in flight
//! than that, and the oldest is counted alone: its completion, if it comes, counts again,
//! which `stats.pending_evicted` tells).

use std::collections::{BinaryHeap, HashMap, VecDeque};

use serde::ser::{SerializeStruct, Serializer};
use serde::Serialize;

use super::matcher::{Hit, HitKind, Request};
use super::stamp::Stamp;

/// Requests waiting for their last stage, at most.
pub const PENDING: usize = 100_000;
/// Distinct source addresses kept per credential.
pub const MAX_ADDRESSES: usize = 64;
/// Distinct user agents kept per credential.
pub const MAX_AGENTS: usize = 32;
/// Distinct verb × resource pairs kept per credential.
pub const MAX_ACTIONS: usize = 128;

/// Distinct values with their counts, at most `cap` of them; the rest is counted in `other`.
#[derive(Debug, Clone)]
pub struct Tally {
    counts: HashMap<String, u64>,
    cap: usize,
    /// Requests whose value was not kept (beyond `cap` distinct values).
    pub other: u64,
}

impl Tally {
    fn new(cap: usize) -> Tally {
        Tally {
            counts: HashMap::new(),
            cap,
            other: 0,
        }
    }

    fn add(&mut self, value: &str) {
        if let Some(n) = self.counts.get_mut(value) {
            *n += 1;
        } else if self.counts.len() < self.cap {
            self.counts.insert(value.to_owned(), 1);
        } else {
            self.other += 1;
        }
    }

    /// The values, most frequent first (then alphabetically).
    pub fn top(&self) -> Vec<(&str, u64)> {
        let mut v: Vec<(&str, u64)> = self.counts.iter().map(|(k, n)| (k.as_str(), *n)).collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        v
    }

    /// Whether nothing was counted.
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty() && self.other == 0
    }
}

impl Serialize for Tally {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Row<'a> {
            value: &'a str,
            requests: u64,
        }
        let rows: Vec<Row<'_>> = self
            .top()
            .into_iter()
            .map(|(value, requests)| Row { value, requests })
            .collect();
        let mut st = s.serialize_struct("Tally", 2)?;
        st.serialize_field("values", &rows)?;
        st.serialize_field("other", &self.other)?;
        st.end()
    }
}

/// The earliest `cap` requests of a kind, by time, and how many there were in all.
#[derive(Debug, Clone)]
pub struct Listed {
    heap: BinaryHeap<(i128, u64, Keyed)>,
    cap: usize,
    /// Requests of this kind in all.
    pub total: u64,
}

/// A request ordered only by its place in the heap's key.
#[derive(Debug, Clone)]
struct Keyed(Request);
impl PartialEq for Keyed {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
impl Eq for Keyed {}
impl PartialOrd for Keyed {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Keyed {
    fn cmp(&self, _: &Self) -> std::cmp::Ordering {
        std::cmp::Ordering::Equal
    }
}

impl Listed {
    fn new(cap: usize) -> Listed {
        Listed {
            heap: BinaryHeap::new(),
            cap,
            total: 0,
        }
    }

    fn push(&mut self, seq: u64, r: &Request) {
        self.total += 1;
        if self.cap == 0 {
            return;
        }
        // Undated requests sort last; the heap's top is the latest kept.
        let t = r.at.map_or(i128::MAX, |s| s.0);
        if self.heap.len() < self.cap {
            self.heap.push((t, seq, Keyed(r.clone())));
        } else if self
            .heap
            .peek()
            .is_some_and(|top| (t, seq) < (top.0, top.1))
        {
            self.heap.pop();
            self.heap.push((t, seq, Keyed(r.clone())));
        }
    }

    /// The requests kept, earliest first.
    pub fn requests(&self) -> Vec<&Request> {
        let mut v: Vec<_> = self.heap.iter().collect();
        v.sort_by_key(|e| (e.0, e.1));
        v.into_iter().map(|e| &e.2 .0).collect()
    }
}

impl Serialize for Listed {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Listed", 2)?;
        st.serialize_field("total", &self.total)?;
        st.serialize_field("requests", &self.requests())?;
        st.end()
    }
}

/// What the audit logs say one credential did.
#[derive(Debug, Clone, Serialize)]
pub struct Usage {
    /// Requests it authenticated (each once).
    pub requests: u64,
    /// Its earliest request.
    pub first_use: Option<Stamp>,
    /// Its latest request.
    pub last_use: Option<Stamp>,
    /// Requests without a readable timestamp.
    pub undated: u64,
    /// Requests refused (401/403): it authenticated, but was not allowed.
    pub refused: u64,
    /// Requests marked `authentication.k8s.io/stale-token`.
    pub stale: u64,
    /// Connection addresses (the last `sourceIPs` entry).
    pub source_ips: Tally,
    /// X-Forwarded-For / X-Real-Ip entries: set by the client, so proof of nothing.
    pub forwarded_for: Tally,
    /// User-Agent headers.
    pub user_agents: Tally,
    /// `verb resource[/subresource]` pairs.
    pub actions: Tally,
    /// Requests at or after the leak time.
    pub after_leak: Listed,
    /// get / list / watch of Secrets.
    pub secrets_read: Listed,
    /// Pods, or workloads that run pods, created.
    pub pods_created: Listed,
    /// pods/exec, pods/attach, pods/portforward.
    pub pods_exec: Listed,
    /// Service-account tokens (TokenRequest) or certificates (CSR) requested.
    pub tokens_created: Listed,
    /// Requests made as another user (`impersonatedUser`).
    pub impersonated: Listed,
    /// RoleBindings or ClusterRoleBindings created, updated or patched.
    pub role_bindings: Listed,
    /// The TokenRequests that minted it: who asked for this token.
    pub minted_by: Listed,
    /// Refused presentations after its Secret was marked invalid.
    pub invalidated: Listed,
}

impl Usage {
    fn new(list: usize) -> Usage {
        Usage {
            requests: 0,
            first_use: None,
            last_use: None,
            undated: 0,
            refused: 0,
            stale: 0,
            source_ips: Tally::new(MAX_ADDRESSES),
            forwarded_for: Tally::new(MAX_ADDRESSES),
            user_agents: Tally::new(MAX_AGENTS),
            actions: Tally::new(MAX_ACTIONS),
            after_leak: Listed::new(list),
            secrets_read: Listed::new(list),
            pods_created: Listed::new(list),
            pods_exec: Listed::new(list),
            tokens_created: Listed::new(list),
            impersonated: Listed::new(list),
            role_bindings: Listed::new(list),
            minted_by: Listed::new(list),
            invalidated: Listed::new(list),
        }
    }

    fn record(&mut self, seq: u64, r: &Request, leaked: Option<Stamp>) {
        self.requests += 1;
        match r.at {
            Some(t) => {
                self.first_use = Some(self.first_use.map_or(t, |f| f.min(t)));
                self.last_use = Some(self.last_use.map_or(t, |l| l.max(t)));
                if leaked.is_some_and(|l| t >= l) {
                    self.after_leak.push(seq, r);
                }
            }
            None => self.undated += 1,
        }
        if matches!(r.code, Some(401 | 403)) {
            self.refused += 1;
        }
        if r.stale {
            self.stale += 1;
        }
        if let Some((peer, forwarded)) = r.source_ips.split_last() {
            self.source_ips.add(peer);
            for f in forwarded {
                self.forwarded_for.add(f);
            }
        }
        if !r.user_agent.is_empty() {
            self.user_agents.add(&r.user_agent);
        }
        self.actions.add(&format!("{} {}", r.verb, r.resource));
        let (res, sub) = r.resource.split_once('/').unwrap_or((&r.resource, ""));
        let verb = r.verb.as_str();
        if res == "secrets" && matches!(verb, "get" | "list" | "watch") {
            self.secrets_read.push(seq, r);
        }
        if res == "pods" && matches!(sub, "exec" | "attach" | "portforward") {
            self.pods_exec.push(seq, r);
        }
        const RUNS_PODS: [&str; 8] = [
            "pods",
            "deployments",
            "daemonsets",
            "statefulsets",
            "replicasets",
            "jobs",
            "cronjobs",
            "replicationcontrollers",
        ];
        if verb == "create" && sub.is_empty() && RUNS_PODS.contains(&res) {
            self.pods_created.push(seq, r);
        }
        let mints = (res == "serviceaccounts" && sub == "token")
            || (res == "certificatesigningrequests" && sub.is_empty());
        if verb == "create" && mints {
            self.tokens_created.push(seq, r);
        }
        if matches!(res, "rolebindings" | "clusterrolebindings")
            && matches!(verb, "create" | "update" | "patch")
        {
            self.role_bindings.push(seq, r);
        }
        if r.impersonated.is_some() {
            self.impersonated.push(seq, r);
        }
    }
}

/// One stage of a request that involves a credential.
#[derive(Debug, Clone)]
pub struct Observation {
    /// The credential and how.
    pub hit: Hit,
    /// Whether it is the request's last stage (`ResponseComplete`, `Panic`).
    pub last_stage: bool,
    /// What is kept of the request.
    pub request: Request,
}

type PendingKey = (String, usize, HitKind);

/// Aggregates observations, in log order, into one [`Usage`] per credential.
#[derive(Debug)]
pub struct Summary {
    usages: Vec<Usage>,
    leaked: Vec<Option<Stamp>>,
    pending: HashMap<PendingKey, (u64, Request)>,
    order: VecDeque<(u64, PendingKey)>,
    seq: u64,
    /// Early stages counted alone because too many requests were in flight.
    pub pending_evicted: u64,
}

impl Summary {
    /// A summary of credentials leaked at `leaked` (by index), listing `list` requests of
    /// each kind.
    pub fn new(leaked: Vec<Option<Stamp>>, list: usize) -> Summary {
        Summary {
            usages: leaked.iter().map(|_| Usage::new(list)).collect(),
            leaked,
            pending: HashMap::new(),
            order: VecDeque::new(),
            seq: 0,
            pending_evicted: 0,
        }
    }

    /// Takes one observation, in the order the logs hold them.
    pub fn observe(&mut self, o: Observation) {
        self.seq += 1;
        if o.request.audit_id.is_empty() {
            // Nothing to join stages by: only last stages count.
            if o.last_stage {
                self.record(o.hit, &o.request);
            }
            return;
        }
        let key = (o.request.audit_id.clone(), o.hit.leak, o.hit.kind);
        if o.last_stage {
            if let Some((_, early)) = self.pending.remove(&key) {
                // The completion says more (annotations, code); the request keeps the
                // time it was received, which every stage carries.
                let mut r = o.request;
                r.at = r.at.or(early.at);
                return self.record(o.hit, &r);
            }
            return self.record(o.hit, &o.request);
        }
        // A later early stage (ResponseStarted) replaces the first.
        self.pending.insert(key.clone(), (self.seq, o.request));
        self.order.push_back((self.seq, key));
        while self.pending.len() > PENDING {
            self.evict_oldest(true);
        }
        // The queue holds stale entries of completed requests: drop them as it grows.
        if self.order.len() > 2 * PENDING {
            self.order
                .retain(|(seq, k)| self.pending.get(k).is_some_and(|(s, _)| s == seq));
        }
    }

    fn evict_oldest(&mut self, counted: bool) {
        while let Some((seq, key)) = self.order.pop_front() {
            if self.pending.get(&key).is_some_and(|(s, _)| *s == seq) {
                if let Some((_, r)) = self.pending.remove(&key) {
                    if counted {
                        self.pending_evicted += 1;
                    }
                    self.record(
                        Hit {
                            leak: key.1,
                            kind: key.2,
                        },
                        &r,
                    );
                }
                return;
            }
        }
    }

    fn record(&mut self, hit: Hit, r: &Request) {
        self.seq += 1;
        let seq = self.seq;
        let Some(u) = self.usages.get_mut(hit.leak) else {
            return;
        };
        match hit.kind {
            HitKind::Use => u.record(seq, r, self.leaked[hit.leak]),
            HitKind::Minted => u.minted_by.push(seq, r),
            HitKind::Invalidated => u.invalidated.push(seq, r),
        }
    }

    /// Counts the requests whose last stage never came, and hands back the usages.
    pub fn finish(self) -> Vec<Usage> {
        self.finish_with_evictions().0
    }

    /// [`Summary::finish`], with the number of early stages counted alone while requests
    /// were still in flight.
    pub fn finish_with_evictions(mut self) -> (Vec<Usage>, u64) {
        while !self.pending.is_empty() {
            self.evict_oldest(false);
        }
        (self.usages, self.pending_evicted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(id: &str, last: bool, at: &str) -> Observation {
        Observation {
            hit: Hit {
                leak: 0,
                kind: HitKind::Use,
            },
            last_stage: last,
            request: Request {
                audit_id: id.into(),
                at: Stamp::parse(at),
                verb: "get".into(),
                resource: "secrets".into(),
                source_ips: vec!["198.51.100.7".into(), "10.0.0.9".into()],
                ..Request::default()
            },
        }
    }

    #[test]
    fn each_request_counts_once_whatever_its_stages() {
        let t = "2024-05-01T10:00:00Z";
        let mut s = Summary::new(vec![Stamp::parse("2024-01-01T00:00:00Z")], 10);
        s.observe(obs("a", false, t));
        s.observe(obs("a", true, t));
        s.observe(obs("b", true, t));
        s.observe(obs("c", false, t)); // never completed
        s.observe(obs("d", false, t));
        s.observe(obs("d", false, t)); // ResponseStarted
        s.observe(obs("d", true, t));
        let u = &s.finish()[0];
        assert_eq!(u.requests, 4);
        assert_eq!(u.after_leak.total, 4);
        assert_eq!(u.secrets_read.total, 4);
        assert_eq!(u.source_ips.top(), [("10.0.0.9", 4)]);
        assert_eq!(u.forwarded_for.top(), [("198.51.100.7", 4)]);
    }

    #[test]
    fn lists_keep_the_earliest_and_count_the_rest() {
        let mut s = Summary::new(vec![None], 2);
        for (i, t) in ["03", "01", "04", "02"].iter().enumerate() {
            s.observe(obs(&i.to_string(), true, &format!("2024-05-{t}T00:00:00Z")));
        }
        let u = &s.finish()[0];
        let days: Vec<String> = u
            .secrets_read
            .requests()
            .iter()
            .map(|r| r.at.unwrap().to_string())
            .collect();
        assert_eq!(days, ["2024-05-01T00:00:00Z", "2024-05-02T00:00:00Z"]);
        assert_eq!(u.secrets_read.total, 4);
        assert_eq!(u.after_leak.total, 0, "no leak time, nothing after it");
        assert_eq!(u.first_use.unwrap().to_string(), "2024-05-01T00:00:00Z");
        assert_eq!(u.last_use.unwrap().to_string(), "2024-05-04T00:00:00Z");
    }

    #[test]
    fn distinct_values_are_capped_and_the_rest_counted() {
        let mut t = Tally::new(2);
        for v in ["a", "b", "a", "c", "d"] {
            t.add(v);
        }
        assert_eq!(t.top(), [("a", 2), ("b", 1)]);
        assert_eq!(t.other, 2);
    }
}
