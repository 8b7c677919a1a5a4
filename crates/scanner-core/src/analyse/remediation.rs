//! How to make a found credential stop working, exact for the kind found: which object to
//! delete, what to read first, and what cannot be revoked at all.

use serde::Serialize;

use crate::finding::{CertificateInfo, Finding, TokenInfo};
use crate::rules;

/// What to do about one finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Remediation {
    /// The one action that makes the credential stop working (or why none is needed).
    pub summary: String,
    /// Steps in order, each one sentence.
    pub steps: Vec<String>,
    /// Commands to run, in order; CAPITALS stand for what the finding cannot tell.
    pub commands: Vec<String>,
}

impl Remediation {
    fn new(summary: impl Into<String>) -> Self {
        Remediation {
            summary: summary.into(),
            steps: Vec::new(),
            commands: Vec::new(),
        }
    }

    fn step(mut self, s: impl Into<String>) -> Self {
        self.steps.push(s.into());
        self
    }

    fn command(mut self, c: impl Into<String>) -> Self {
        self.commands.push(c.into());
        self
    }
}

/// The remediation for `f`.
pub fn remediation(f: &Finding) -> Remediation {
    let token = f.token.as_ref();
    match f.rule_id.as_str() {
        rules::K8S_SA_TOKEN_LEGACY => legacy(token),
        rules::K8S_SA_TOKEN_BOUND => bound(token),
        rules::K8S_BOOTSTRAP_TOKEN => bootstrap(f.token_id.as_deref(), f.secret.expose()),
        rules::KUBECONFIG_TOKEN => Remediation::new(
            "Remove the token where the API server accepts it (static token file, webhook or \
             identity provider), then hand out a new kubeconfig",
        )
        .step(
            "Find the user it authenticates as: kubectl auth whoami run with this kubeconfig \
             shows it without printing the token",
        )
        .step(
            "If the API server has --token-auth-file, delete the token's row there and restart \
             kube-apiserver; otherwise revoke it at the issuer (OpenShift: oc delete \
             useroauthaccesstoken for that user's token)",
        )
        .command("kubectl --kubeconfig LEAKED_KUBECONFIG auth whoami"),
        rules::KUBECONFIG_CLIENT_KEY => client_key(f.certificate.as_ref()),
        rules::KUBECONFIG_OIDC_TOKEN => Remediation::new(
            "Revoke at the identity provider named by idp-issuer-url: the refresh token first, \
             then rotate the client secret",
        )
        .step("An id-token stays valid until its exp; the refresh token mints new ones until revoked"),
        rules::KUBECONFIG_PASSWORD => Remediation::new(
            "Change the password where it is checked (authenticating proxy or webhook; \
             kube-apiserver dropped --basic-auth-file in 1.19)",
        ),
        rules::K8S_STATIC_TOKEN => static_row(f, "--token-auth-file", "token"),
        rules::K8S_STATIC_PASSWORD => static_row(f, "--basic-auth-file", "password"),
        rules::K8S_DOCKERCONFIGJSON => Remediation::new(
            "Rotate the registry password or access token, then update the pull secret",
        )
        .command("kubectl -n NAMESPACE create secret docker-registry NAME --docker-server=REGISTRY --docker-username=USER --docker-password=NEW_PASSWORD --dry-run=client -o yaml | kubectl apply -f -"),
        rules::JWT => match token.and_then(|t| t.published_sample.as_deref()) {
            Some(what) => Remediation::new(format!(
                "Nothing to revoke: this is {what}, published as documentation"
            )),
            None => Remediation::new(match token.and_then(|t| t.issuer.as_deref()) {
                Some(iss) => format!(
                    "Revoke the token at its issuer {iss}, or rotate the issuer's signing key"
                ),
                None => "Find the issuer (no iss claim) and revoke the token or rotate its \
                         signing key"
                    .to_owned(),
            }),
        },
        rules::PRIVATE_KEY => Remediation::new(
            "Treat the key as compromised: replace it and revoke every certificate issued for it",
        ),
        _ => Remediation::new(
            rules::builtin(&f.rule_id)
                .map_or("Rotate the secret at the service that issued it", |r| r.help),
        ),
    }
}

/// A row of a kube-apiserver static file: nothing revokes it but editing the file that
/// `flag` names and restarting the API server.
fn static_row(f: &Finding, flag: &str, what: &str) -> Remediation {
    let mut r = Remediation::new(format!(
        "Delete the row from the {flag} file on every control-plane node and restart \
         kube-apiserver: it reads the file only at start-up, and the {what} works until then"
    ))
    .step(format!(
        "Find the file: kube-apiserver's {flag} flag names it (static pod manifest or systemd unit)"
    ));
    if f.severity == crate::Severity::Critical {
        r = r.step(
            "The row is in system:masters, which bypasses RBAC: read the audit log for requests \
             by its user since the leak",
        );
    }
    if what == "password" {
        r = r.step(
            "kube-apiserver 1.19 and later have no --basic-auth-file: on such a cluster find \
             what else reads the file (an authenticating proxy), and change the password \
             wherever it is reused",
        );
    }
    r.command(format!(
        "sudo grep -rn -- '{flag}' /etc/kubernetes/manifests /etc/systemd/system"
    ))
}

fn client_key(cert: Option<&CertificateInfo>) -> Remediation {
    let Some(c) = cert else {
        return Remediation::new(
            "Kubernetes cannot revoke a client certificate: remove the RBAC bindings of its user \
             and groups until it expires, and rotate the cluster CA if it is in system:masters",
        )
        .step("Read the user (subject CN), groups (O) and expiry of the client-certificate-data beside the key")
        .command("kubectl config view --raw -o jsonpath='{.users[?(@.name==\"USER\")].user.client-certificate-data}' | base64 -d | openssl x509 -noout -subject -issuer -enddate");
    };
    let user = c.user.as_deref().unwrap_or("(no CN)");
    if c.expired {
        return Remediation::new(format!(
            "Expired {}: the API server no longer accepts this certificate of {user}; remove it from where it leaked",
            c.not_after
        ));
    }
    let groups = if c.groups.is_empty() {
        String::new()
    } else {
        format!(" and groups {}", c.groups.join(", "))
    };
    let masters = c.groups.iter().any(|g| g == super::SYSTEM_MASTERS);
    let summary = if masters {
        format!(
            "In system:masters, which bypasses RBAC and cannot be revoked: rotate the cluster CA \
             (issuer {}) before {} to stop it",
            c.issuer, c.not_after
        )
    } else {
        format!(
            "Cannot be revoked: remove the RBAC bindings of user {user}{groups} until it expires {}",
            c.not_after
        )
    };
    let mut names = vec![format!("(.kind==\"User\" and .name==\"{user}\")")];
    names.extend(
        c.groups
            .iter()
            .map(|g| format!("(.kind==\"Group\" and .name==\"{g}\")")),
    );
    Remediation::new(summary)
        .step(format!(
            "Find every binding of user {user}{groups}, and delete or narrow it"
        ))
        .step(format!(
            "The certificate (SHA-256 {}) stays valid until {}; leakscan audit finds its uses",
            c.sha256, c.not_after
        ))
        .command(format!(
            "kubectl get clusterrolebindings,rolebindings -A -o json | jq -r '.items[] | select(.subjects[]? | {}) | .kind + \" \" + (.metadata.namespace // \"-\") + \"/\" + .metadata.name'",
            names.join(" or ")
        ))
}

fn ns_of(t: Option<&TokenInfo>) -> &str {
    t.and_then(|t| t.namespace.as_deref())
        .unwrap_or("NAMESPACE")
}

fn legacy(t: Option<&TokenInfo>) -> Remediation {
    let ns = ns_of(t);
    let Some(secret) = t.and_then(|t| t.secret_name.as_deref()) else {
        return Remediation::new(format!(
            "Delete the service-account token Secret in namespace {ns} that holds it: the token \
             dies with its Secret"
        ))
        .command(format!(
            "kubectl -n {ns} get secrets --field-selector type=kubernetes.io/service-account-token"
        ));
    };
    Remediation::new(format!(
        "Delete Secret {ns}/{secret}: the token dies with it (legacy tokens never expire)"
    ))
    .step(format!(
        "First read when the API server last accepted it: the kubernetes.io/legacy-token-last-used \
         label on Secret {ns}/{secret} (Kubernetes 1.29+, a date); leakscan audit finds each use"
    ))
    .step(format!("Then delete Secret {ns}/{secret}"))
    .step("Give the workload a bound token instead (projected volume, or kubectl create token)")
    .command(format!(
        "kubectl -n {ns} get secret {secret} -o jsonpath='{{.metadata.labels.kubernetes\\.io/legacy-token-last-used}}'"
    ))
    .command(format!("kubectl -n {ns} delete secret {secret}"))
}

fn bound(t: Option<&TokenInfo>) -> Remediation {
    let ns = ns_of(t);
    let exp = t.and_then(|t| t.expires_at.clone());
    let until = exp
        .as_deref()
        .map_or("no expiry".to_owned(), |e| format!("expires {e}"));
    if t.is_some_and(|t| t.expired) {
        return Remediation::new(format!(
            "Expired ({until}): the API server no longer accepts it; remove it from where it leaked"
        ));
    }
    let sa = t.and_then(|t| t.service_account.as_deref());
    if let Some(pod) = t.and_then(|t| t.pod.as_deref()) {
        return Remediation::new(format!(
            "Delete pod {ns}/{pod}: a token bound to a pod stops working with it ({until} otherwise)"
        ))
        .command(format!("kubectl -n {ns} delete pod {pod}"));
    }
    if let Some(secret) = t.and_then(|t| t.secret_name.as_deref()) {
        return Remediation::new(format!(
            "Delete Secret {ns}/{secret}: the token is bound to it ({until} otherwise)"
        ))
        .command(format!("kubectl -n {ns} delete secret {secret}"));
    }
    if let Some(node) = t.and_then(|t| t.node.as_deref()) {
        return Remediation::new(format!(
            "Valid until it {until}; deleting Node {node} invalidates it sooner"
        ))
        .command(format!("kubectl delete node {node}"));
    }
    // `kubectl create token`: bound to nothing but its ServiceAccount.
    let sa_name = sa.unwrap_or("SERVICEACCOUNT");
    let left = t
        .and_then(|t| t.expires_at.as_deref())
        .and_then(remaining)
        .map_or(String::new(), |d| format!(", {d} from now"));
    Remediation::new(format!(
        "Bound to no object: valid until it {until}{left}, unless ServiceAccount {ns}/{sa_name} \
         is deleted or the service-account signing key is rotated"
    ))
    .step(format!(
        "Deleting ServiceAccount {ns}/{sa_name} also invalidates every other token it holds and \
         breaks its workloads until it is recreated"
    ))
    .step("Rotating the API server's --service-account-signing-key-file invalidates every bound token of the cluster")
    .command(format!("kubectl -n {ns} delete serviceaccount {sa_name}"))
}

/// How long until an RFC 3339 time, in days and hours (`None` when past or unreadable).
fn remaining(rfc3339: &str) -> Option<String> {
    use time::format_description::well_known::Rfc3339;
    let exp = time::OffsetDateTime::parse(rfc3339, &Rfc3339).ok()?;
    let secs = (exp - time::OffsetDateTime::now_utc()).whole_seconds();
    if secs <= 0 {
        return None;
    }
    let (days, hours, minutes) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    Some(if days > 0 {
        format!("{days}d {hours}h")
    } else {
        format!("{hours}h {minutes}m")
    })
}

fn bootstrap(token_id: Option<&str>, secret: &str) -> Remediation {
    // The id half is public (it names the Secret); the other half is never printed. A
    // finding read from a redacted report has only `token_id` to go by.
    let id = token_id
        .or_else(|| secret.split('.').next().filter(|i| i.len() == 6))
        .unwrap_or("TOKEN_ID");
    Remediation::new(format!(
        "Delete it: kubeadm token delete {id} (or Secret kube-system/bootstrap-token-{id})"
    ))
    .command(format!("kubeadm token delete {id}"))
    .command(format!(
        "kubectl -n kube-system delete secret bootstrap-token-{id}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_left_is_in_days_or_hours() {
        let in_3h = time::OffsetDateTime::now_utc() + time::Duration::minutes(185);
        let s = in_3h
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap();
        assert!(remaining(&s).is_some_and(|r| r.starts_with("3h ")), "{s}");
        assert_eq!(remaining("2000-01-01T00:00:00Z"), None);
    }

    #[test]
    fn a_bootstrap_remediation_names_only_the_public_id() {
        let r = bootstrap(None, "x7k2p9.m4n5q8r1s3t6v9w2");
        assert_eq!(r.commands[0], "kubeadm token delete x7k2p9");
        assert!(!format!("{r:?}").contains("m4n5q8r1s3t6v9w2"));
        // Read back from a redacted report, the secret is gone but the public id is not.
        let r = bootstrap(Some("x7k2p9"), "x7…[REDACTED 23 chars]");
        assert_eq!(r.commands[0], "kubeadm token delete x7k2p9");
    }
}
