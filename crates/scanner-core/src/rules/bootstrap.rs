//! kubeadm bootstrap tokens (`[a-z0-9]{6}.[a-z0-9]{16}`), only in bootstrap contexts:
//! a `kubeadm … --token` command line (and the token `kubeadm token create` prints on the
//! next line), `kubeadm token list` output, a `bootstrap.kubernetes.io/token` Secret's
//! `token-id` + `token-secret` (plain in `stringData`, base64 in `data`), or the value of
//! any key, variable or flag named like a token (`bootstrapTokens[].token`,
//! `tlsBootstrapToken:`, `K8S_JOIN_TOKEN=`, `kubeadm_token:`, `--discovery-token X`). The
//! documentation's examples and their rearrangements are never findings.

use std::sync::OnceLock;

use regex::bytes::Regex;

use crate::candidate::Candidate;
use crate::decode::{self, Step};
use crate::rules::detector::{Detector, Example, Expect};
use crate::rules::{self, value_after_key};

/// The example from the Kubernetes documentation; never a real credential.
const DOC_EXAMPLE: &str = "abcdef.0123456789abcdef";
/// How far from `token-secret` the matching `token-id` may be.
const ID_WINDOW: usize = 2048;

fn token_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    // ok: constant pattern.
    RE.get_or_init(|| {
        Regex::new(r"(?:^|[^a-z0-9.])([a-z0-9]{6}\.[a-z0-9]{16})(?:$|[^a-z0-9.])")
            .expect("bootstrap regex compiles")
    })
}

/// The example of the kubeadm reference docs (`kubeadm join`, kubelet TLS bootstrapping).
const DOC_EXAMPLE_2: &str = "07401b.f395accd246ae52d";

/// The public half of a bootstrap token `ID.SECRET` (what names its Secret and its audit
/// user); `None` for a lone secret half (a `token-secret` found without its `token-id`).
pub(crate) fn public_id(token: &str) -> Option<String> {
    let (id, secret) = token.split_once('.')?;
    (id.len() == 6 && secret.len() == 16).then(|| id.to_owned())
}

/// Whether `t` is exactly a bootstrap token's shape.
pub(crate) fn is_token(t: &[u8]) -> bool {
    let part = |p: &[u8]| {
        p.iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    };
    t.len() == 23 && t[6] == b'.' && part(&t[..6]) && part(&t[7..])
}

/// A documentation example or a rearrangement of one (`abcdef.1234567890abcdef`): runs
/// of consecutive characters, which generated tokens practically never have.
pub(crate) fn is_dummy(t: &str) -> bool {
    t == DOC_EXAMPLE || t == DOC_EXAMPLE_2 || rules::placeholder::is_sequential(t)
}

/// The token that starts at `at`, if a whole bootstrap token starts there.
fn token_at(data: &[u8], at: usize) -> Option<Candidate> {
    let t = data.get(at..at + 23)?;
    let after = data.get(at + 23).copied();
    let glued = |b: Option<u8>| b.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'.');
    if !is_token(t) || glued(after) || (at > 0 && glued(Some(data[at - 1]))) {
        return None;
    }
    let secret = String::from_utf8_lossy(t).into_owned();
    if is_dummy(&secret) {
        return None;
    }
    Some(Candidate::new(
        rules::K8S_BOOTSTRAP_TOKEN,
        at,
        at + 23,
        secret,
    ))
}

/// The bootstrap token assigned to the token-named key, variable or flag whose `token`
/// starts at `hit` (`token: X`, `TOKEN="X"`, `'token' => 'X'`, `--token X`).
pub(crate) fn keyed(data: &[u8], hit: usize) -> Option<Candidate> {
    let mut i = hit + 5;
    // The name goes on (`token_ttl`, `tokenFile`): not this key's value.
    if data
        .get(i)
        .is_some_and(|&b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return None;
    }
    let skip = |i: &mut usize, set: &[u8]| {
        while data.get(*i).is_some_and(|b| set.contains(b)) {
            *i += 1;
        }
    };
    skip(&mut i, b"\"'");
    skip(&mut i, b" \t");
    skip(&mut i, b":=>");
    skip(&mut i, b" \t\"'");
    token_at(data, i)
}

/// The tokens of `kubeadm token list` output whose header line holds `hit`.
pub(crate) fn token_list(data: &[u8], hit: usize) -> Vec<Candidate> {
    let mut out = Vec::new();
    let mut at = rules::line_end(data, hit) + 1;
    // A few hundred tokens is already a very busy cluster.
    for _ in 0..1000 {
        if at >= data.len() {
            break;
        }
        let start = at + data[at..].iter().take_while(|&&b| b == b' ').count();
        match token_at(data, start) {
            Some(c) => out.push(c),
            None if is_token(data.get(start..start + 23).unwrap_or(b"")) => {}
            None => break,
        }
        at = rules::line_end(data, start) + 1;
    }
    out
}

/// Bootstrap tokens on the (backslash-continued) `kubeadm` command line holding `hit`.
pub(crate) fn kubeadm_line(data: &[u8], hit: usize) -> Vec<Candidate> {
    let Some(start) = rules::line_start(data, hit) else {
        return Vec::new();
    };
    let mut end = hit;
    for _ in 0..8 {
        end = rules::line_end(data, end);
        let line = data[start..end].trim_ascii_end();
        if line.ends_with(b"\\") && end < data.len() {
            end += 1;
        } else {
            break;
        }
    }
    let line = &data[start..end];
    let mut out = Vec::new();
    for caps in token_re().captures_iter(line) {
        let Some(m) = caps.get(1) else { continue };
        // Only a value of a token flag or `kubeadm token create`, not any dotted word.
        if memchr::memmem::find(&line[..m.start()], b"token").is_none() {
            continue;
        }
        let secret = String::from_utf8_lossy(m.as_bytes()).into_owned();
        if is_dummy(&secret) {
            continue;
        }
        out.push(Candidate::new(
            rules::K8S_BOOTSTRAP_TOKEN,
            start + m.start(),
            start + m.end(),
            secret,
        ));
    }
    // `kubeadm token create` (without --print-join-command) prints the token alone on the
    // next line of a terminal transcript.
    let creates = memchr::memmem::find(line, b"token create").is_some()
        || memchr::memmem::find(line, b"token generate").is_some();
    if out.is_empty() && creates && end < data.len() {
        let next = end + 1;
        let first = next + data[next..].iter().take_while(|&&b| b == b' ').count();
        if let Some(c) = token_at(data, first) {
            if data
                .get(first + 23)
                .is_none_or(|&b| b == b'\n' || b == b'\r')
            {
                out.push(c);
            }
        }
    }
    out
}

/// A bootstrap-token Secret value of `len` characters from `[a-z0-9]`, plain or base64.
fn decode_part(text: &str, len: usize) -> Option<(String, bool)> {
    let ok = |s: &[u8]| {
        s.len() == len
            && s.iter()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    };
    if ok(text.as_bytes()) {
        return Some((text.to_owned(), false));
    }
    let d = decode::decode_base64(text.as_bytes())?;
    ok(&d.bytes).then(|| (String::from_utf8_lossy(&d.bytes).into_owned(), true))
}

/// The bootstrap token whose `token-secret` key is at `hit_start..hit_end`, joined with the
/// `token-id` near it.
pub(crate) fn token_secret(data: &[u8], hit_start: usize, hit_end: usize) -> Option<Candidate> {
    let ke = hit_end + usize::from(data.get(hit_end) == Some(&b'"'));
    let value = value_after_key(data, hit_end).or_else(|| value_after_key(data, ke))?;
    let (secret, secret_b64) = decode_part(value.text, 16)?;
    let lo = hit_start.saturating_sub(ID_WINDOW);
    let hi = (hit_end + ID_WINDOW).min(data.len());
    let id = memchr::memmem::find_iter(&data[lo..hi], b"token-id")
        .filter_map(|p| value_after_key(data, lo + p + 8))
        .find_map(|v| decode_part(v.text, 6));
    let full = match &id {
        Some((id, _)) => format!("{id}.{secret}"),
        None => secret,
    };
    if is_dummy(&full) || full.ends_with(".0123456789abcdef") || full == "0123456789abcdef" {
        return None;
    }
    let mut c = Candidate::new(rules::K8S_BOOTSTRAP_TOKEN, value.start, value.end, full);
    if secret_b64 {
        c.steps.push(Step::Base64);
    }
    Some(c)
}

/// Bootstrap tokens wherever kubeadm and its tooling print or read them.
pub(crate) const DETECTOR: Detector = Detector {
    name: "bootstrap",
    rules: &[rules::K8S_BOOTSTRAP_TOKEN],
    keywords: &["kubeadm", "token", "Token", "TOKEN", "token-secret"],
    examples: &[
        Example {
            path: "README.md",
            text: "Then join the workers:\n\n    kubeadm join 10.0.0.1:6443 --token {{bootstrap-token}} \\\n        --discovery-token-ca-cert-hash sha256:0f3c7a9e1b5d2f8a6c4e0b9d7f3a1c5e8b2d6f0a4c8e2b6d0f4a8c2e6b0d4f8a\n",
            expect: &[Expect { rule: rules::K8S_BOOTSTRAP_TOKEN, line: 3, secret: "{{bootstrap-token}}" }],
        },
        Example {
            path: "session.txt",
            text: "root@cp-1:~# kubeadm token create\n{{bootstrap-token}}\nroot@cp-1:~#\n",
            expect: &[Expect { rule: rules::K8S_BOOTSTRAP_TOKEN, line: 2, secret: "{{bootstrap-token}}" }],
        },
        Example {
            path: "token-list.txt",
            text: "TOKEN                     TTL         EXPIRES                USAGES                   DESCRIPTION   EXTRA GROUPS\n{{bootstrap-token}}   23h         2024-05-02T10:00:00Z   authentication,signing   <none>        system:bootstrappers:kubeadm:default-node-token\n",
            expect: &[Expect { rule: rules::K8S_BOOTSTRAP_TOKEN, line: 2, secret: "{{bootstrap-token}}" }],
        },
        Example {
            path: "join.yaml",
            text: "apiVersion: kubeadm.k8s.io/v1beta3\nkind: JoinConfiguration\ndiscovery:\n  bootstrapToken:\n    apiServerEndpoint: 10.0.0.1:6443\n    token: {{bootstrap-token}}\n    unsafeSkipCAVerification: true\n  tlsBootstrapToken: {{bootstrap-token}}\n",
            expect: &[
                Expect { rule: rules::K8S_BOOTSTRAP_TOKEN, line: 6, secret: "{{bootstrap-token}}" },
                Expect { rule: rules::K8S_BOOTSTRAP_TOKEN, line: 8, secret: "{{bootstrap-token}}" },
            ],
        },
        Example {
            path: "init.yaml",
            text: "apiVersion: kubeadm.k8s.io/v1beta3\nkind: InitConfiguration\nbootstrapTokens:\n- groups:\n  - system:bootstrappers:kubeadm:default-node-token\n  token: {{bootstrap-token}}\n  ttl: 24h0m0s\n",
            expect: &[Expect { rule: rules::K8S_BOOTSTRAP_TOKEN, line: 6, secret: "{{bootstrap-token}}" }],
        },
        Example {
            path: "group_vars/all.yml",
            text: "kubeadm_token: \"{{bootstrap-token}}\"\n",
            expect: &[Expect { rule: rules::K8S_BOOTSTRAP_TOKEN, line: 1, secret: "{{bootstrap-token}}" }],
        },
        Example {
            path: "join.env",
            text: "K8S_JOIN_TOKEN={{bootstrap-token}}\n",
            expect: &[Expect { rule: rules::K8S_BOOTSTRAP_TOKEN, line: 1, secret: "{{bootstrap-token}}" }],
        },
        Example {
            path: "Vagrantfile",
            text: "KUBEADM = { 'token' => '{{bootstrap-token}}', 'cidr' => '10.244.0.0/16' }\n",
            expect: &[Expect { rule: rules::K8S_BOOTSTRAP_TOKEN, line: 1, secret: "{{bootstrap-token}}" }],
        },
        Example {
            path: "main.tf",
            text: "variable \"join\" {}\nlocals {\n  kubeadm_join_token = \"{{bootstrap-token}}\"\n}\n",
            expect: &[Expect { rule: rules::K8S_BOOTSTRAP_TOKEN, line: 3, secret: "{{bootstrap-token}}" }],
        },
        Example {
            path: "cluster.py",
            text: "kubeadm = {\n    'token': '{{bootstrap-token}}',\n}\n",
            expect: &[Expect { rule: rules::K8S_BOOTSTRAP_TOKEN, line: 2, secret: "{{bootstrap-token}}" }],
        },
        Example {
            path: "config.json",
            text: "{\"kubeadm\": {\"bootstrapToken\": \"{{bootstrap-token}}\"}}\n",
            expect: &[Expect { rule: rules::K8S_BOOTSTRAP_TOKEN, line: 1, secret: "{{bootstrap-token}}" }],
        },
        Example {
            path: "kubelet.service",
            text: "ExecStart=/usr/bin/kubelet-join --discovery-token {{bootstrap-token}} --api 10.0.0.1\n",
            expect: &[Expect { rule: rules::K8S_BOOTSTRAP_TOKEN, line: 1, secret: "{{bootstrap-token}}" }],
        },
        Example {
            path: "bootstrap-kubelet.conf",
            text: "apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    server: https://10.0.0.1:6443\n  name: kubernetes\nusers:\n- name: tls-bootstrap-token-user\n  user:\n    token: {{bootstrap-token}}\n",
            expect: &[Expect { rule: rules::K8S_BOOTSTRAP_TOKEN, line: 10, secret: "{{bootstrap-token}}" }],
        },
        Example {
            path: "bootstrap-token.yaml",
            text: "apiVersion: v1\nkind: Secret\nmetadata:\n  name: bootstrap-token-{{bootstrap-token.id}}\n  namespace: kube-system\ntype: bootstrap.kubernetes.io/token\nstringData:\n  token-id: {{bootstrap-token.id}}\n  token-secret: {{bootstrap-token.secret}}\n  usage-bootstrap-authentication: \"true\"\n",
            expect: &[Expect { rule: rules::K8S_BOOTSTRAP_TOKEN, line: 9, secret: "{{bootstrap-token}}" }],
        },
        Example {
            // The documentation's tokens, rearranged, and look-alikes of other kinds.
            path: "docs/kubeadm.md",
            text: "kubeadm join 10.0.0.1:6443 --token abcdef.0123456789abcdef\nkubeadm join 10.0.0.1:6443 --token 07401b.f395accd246ae52d\nkubeadm join 10.0.0.1:6443 --token abcdef.1234567890abcdef\nkubeadm token create --token-ttl 24h0m0s\nTOKEN=release.2024-05-01\n",
            expect: &[],
        },
    ],
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubeadm_join_with_continuation() {
        let text = b"kubeadm join 10.0.0.1:6443 \\\n  --token k8x2mp.9qz7w4v1c3n5b6a8 \\\n  --discovery-token-ca-cert-hash sha256:abc\n";
        let c = kubeadm_line(text, 0);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].secret, "k8x2mp.9qz7w4v1c3n5b6a8");
    }

    #[test]
    fn documentation_example_is_not_a_finding() {
        let text = b"kubeadm join 1.2.3.4:6443 --token abcdef.0123456789abcdef\n";
        assert!(kubeadm_line(text, 0).is_empty());
    }

    #[test]
    fn base64_secret_pair() {
        // token-id: "k8x2mp", token-secret: "9qz7w4v1c3n5b6a8"
        let text = "data:\n  token-id: azh4Mm1w\n  token-secret: OXF6N3c0djFjM241YjZhOA==\n";
        let s = text.find("token-secret").unwrap();
        let c = token_secret(text.as_bytes(), s, s + 12).unwrap();
        assert_eq!(c.secret, "k8x2mp.9qz7w4v1c3n5b6a8");
        assert_eq!(c.steps, vec![Step::Base64]);
    }
}
