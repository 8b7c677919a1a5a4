//! Credentials handed to kubectl (or `oc`) on the command line: `kubectl config
//! set-credentials NAME --token=… / --password=…`, `kubectl --token=… get pods`,
//! `oc login --token=…`. They end up in shell history, CI logs and READMEs. A JWT there is
//! reported by the JWT rule with its claims; this rule takes the opaque values.

use crate::candidate::Candidate;
use crate::rules::detector::{Detector, Example, Expect};
use crate::rules::{self, placeholder};

/// The example password of `kubectl config set-credentials --help`, copied into countless
/// READMEs and docs.
const HELP_EXAMPLE: &str = "uXFGweU9l35qcif";

/// The credential of the `--token` or `--password` flag whose name starts at `hit`
/// (`token` / `password`), when the line is a kubectl or oc command.
pub(crate) fn flag(data: &[u8], hit: usize) -> Option<Candidate> {
    if hit < 2 || &data[hit - 2..hit] != b"--" {
        return None;
    }
    let (rule, name_len) = if data[hit..].starts_with(b"token") {
        (rules::KUBECONFIG_TOKEN, 5)
    } else if data[hit..].starts_with(b"password") {
        (rules::KUBECONFIG_PASSWORD, 8)
    } else {
        return None;
    };
    let line_start = rules::line_start(data, hit)?;
    let before = &data[line_start..hit];
    let command = memchr::memmem::find(before, b"kubectl").is_some()
        || memchr::memmem::find(before, b"oc login").is_some()
        || memchr::memmem::find(before, b"set-credentials").is_some();
    if !command {
        return None;
    }
    let mut i = hit + name_len;
    match data.get(i) {
        Some(b'=' | b' ') => i += 1,
        _ => return None,
    }
    let quote = data.get(i).copied().filter(|q| matches!(q, b'"' | b'\''));
    if quote.is_some() {
        i += 1;
    }
    let line = &data[i..rules::line_end(data, i)];
    let end = i + line
        .iter()
        .position(|&b| b.is_ascii_whitespace() || Some(b) == quote || b == b'\\' && quote.is_none())
        .unwrap_or(line.len());
    let value = std::str::from_utf8(&data[i..end]).ok()?;
    if value.starts_with("eyJ") || value == HELP_EXAMPLE {
        return None;
    }
    let credible = match rule {
        rules::KUBECONFIG_TOKEN => placeholder::looks_generated(value),
        _ => !placeholder::is_placeholder(value) && !placeholder::is_name(value),
    };
    credible.then(|| Candidate::new(rule, i, end, value.to_owned()))
}

/// Credentials handed to `kubectl` and `oc` on the command line.
pub(crate) const DETECTOR: Detector = Detector {
    name: "kubectl",
    rules: &[rules::KUBECONFIG_TOKEN, rules::KUBECONFIG_PASSWORD],
    keywords: &["token", "password"],
    examples: &[
        Example {
            path: "scripts/ci-login.sh",
            text: "#!/bin/sh\nkubectl config set-credentials ci-bot --token={{opaque-token}}\nkubectl config set-credentials ops --username=ops --password={{password}}\n",
            expect: &[
                Expect { rule: rules::KUBECONFIG_TOKEN, line: 2, secret: "{{opaque-token}}" },
                Expect { rule: rules::KUBECONFIG_PASSWORD, line: 3, secret: "{{password}}" },
            ],
        },
        Example {
            path: ".bash_history",
            text: "kubectl get ns\nkubectl --server=https://10.0.0.1:6443 --token={{opaque-token-2}} get pods -A\n",
            expect: &[Expect { rule: rules::KUBECONFIG_TOKEN, line: 2, secret: "{{opaque-token-2}}" }],
        },
        Example {
            path: ".zsh_history",
            text: ": 1714557600:0;oc login --token=sha256~{{opaque-token}} --server=https://api.crc.testing:6443\n",
            expect: &[Expect { rule: rules::KUBECONFIG_TOKEN, line: 1, secret: "sha256~{{opaque-token}}" }],
        },
        Example {
            // Variables, and the password of `kubectl config set-credentials --help`.
            path: "docs/login.md",
            text: "kubectl --token=$TOKEN get pods\noc login --token=${debug_token} --server=$API\nkubectl config set-credentials cluster-admin --username=admin --password=uXFGweU9l35qcif\n",
            expect: &[],
        },
    ],
};

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(line: &str) -> Option<String> {
        let hit = line.find("--token").or(line.find("--password"))? + 2;
        flag(line.as_bytes(), hit).map(|c| c.secret)
    }

    #[test]
    fn flags_of_kubectl_and_oc() {
        let t = "9d1f3b7e2a6c4e8f0b5d7a9c1e3f5b7d";
        assert_eq!(
            secret(&format!("kubectl config set-credentials ci --token={t}")).as_deref(),
            Some(t)
        );
        assert_eq!(
            secret(&format!("kubectl --token \"{t}\" get pods")).as_deref(),
            Some(t)
        );
        assert_eq!(
            secret(&format!("oc login --token={t} --server=https://api.c:6443")).as_deref(),
            Some(t)
        );
        assert_eq!(
            secret("kubectl config set-credentials admin --username=admin --password=Xk9#qPz2mW")
                .as_deref(),
            Some("Xk9#qPz2mW")
        );
    }

    #[test]
    fn placeholders_other_commands_and_jwts_are_not_taken() {
        assert_eq!(
            secret("kubectl config set-credentials ci --token=$TOKEN"),
            None
        );
        assert_eq!(
            secret("kubectl config set-credentials ci --token=<token>"),
            None
        );
        assert_eq!(secret("kubectl --token=bearer_token get pods"), None);
        assert_eq!(
            secret("curl --token=9d1f3b7e2a6c4e8f0b5d7a9c1e3f5b7d x"),
            None
        );
        assert_eq!(
            secret("kubectl --token=eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln get po"),
            None
        );
        assert_eq!(
            secret("kubectl config set-credentials a --password=${PASSWORD}"),
            None
        );
    }
}
