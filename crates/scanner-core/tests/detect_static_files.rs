//! Issue 9 item 3: kube-apiserver static credential files. `--token-auth-file` rows
//! (`token,user,uid,"groups"`, rule `k8s-static-token`) and `--basic-auth-file` rows
//! (`password,user,uid,"groups"`, rule `k8s-static-password`) in every context they are
//! written: a file named like one, a heredoc, `echo`/`printf`/`tee`/here-string writers, a
//! ConfigMap key, an Ansible task, a document next to the flag. Each context has a negative
//! twin with the placeholders people put there, and rows without a named file are silent.

use std::io::Cursor;

use rand::Rng;
use scanner_core::{Finding, Origin, Scanner, Severity};

fn scanner() -> Scanner {
    Scanner::builder()
        .now(1_735_689_600)
        .build()
        .expect("scanner")
}

fn scan(path: &str, text: &str) -> Vec<Finding> {
    scanner().scan_bytes(text.as_bytes(), &Origin::path(path))
}

/// What `head -c 16 /dev/urandom | od -An -t x | tr -d ' '` prints: the token every
/// binary-install guide puts in token.csv.
fn hex32() -> String {
    let mut rng = rand::thread_rng();
    (0..16)
        .map(|_| format!("{:02x}", rng.gen::<u8>()))
        .collect()
}

/// A password as kube-up generated them: 16 letters and digits.
fn password16() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::thread_rng();
    loop {
        let p: String = (0..16)
            .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
            .collect();
        // A password of letters only could be read as a name; kube-up's mix digits in.
        if p.bytes().any(|b| b.is_ascii_digit()) && p.bytes().any(|b| b.is_ascii_alphabetic()) {
            return p;
        }
    }
}

/// 1-based (line, column) of every occurrence of `needle` in `text`.
fn places(text: &str, needle: &str) -> Vec<(usize, usize)> {
    text.match_indices(needle)
        .map(|(at, _)| {
            let line = text[..at].matches('\n').count() + 1;
            (line, at - text[..at].rfind('\n').map_or(0, |p| p + 1) + 1)
        })
        .collect()
}

/// (file, text with `{S}` where the secret goes): one context each, one row each.
const TOKEN_CONTEXTS: &[(&str, &str)] = &[
    (
        "srv/kubernetes/known_tokens.csv",
        "{S},kubelet-bootstrap,10001,\"system:kubelet-bootstrap\"\n",
    ),
    ("auth/static-token", "{S},ci-deployer,ci-deployer\n"),
    (
        "roles/kube-master/templates/token.csv.j2",
        "{S},kubelet-bootstrap,10001,\"system:kubelet-bootstrap\"\n",
    ),
    (
        "scripts/steps/token.sh",
        "#!/usr/bin/env bash\n# TLS bootstrapping token\ncat > /opt/kubernetes/cfg/token.csv <<EOF\n{S},kubelet-bootstrap,10001,\"system:kubelet-bootstrap\"\nEOF\nsystemctl restart kube-apiserver\n",
    ),
    (
        "docs/install.md",
        "3. Create the token file:\n\n   ```bash\n   cat <<-'EOF' | sudo tee /etc/kubernetes/token.csv\n   {S},kubelet-bootstrap,10001,\"system:kubelet-bootstrap\"\n   EOF\n   ```\n",
    ),
    (
        "cluster/util.sh",
        "  echo \"{S},admin,admin,\\\"system:monitoring\\\"\" >> \"${KUBE_TEMP}/known_tokens.csv\"\n",
    ),
    (
        "setup.sh",
        "echo -e '{S},kubelet,kubelet' | sudo tee -a /srv/kubernetes/known_tokens.csv >/dev/null\n",
    ),
    ("bootstrap.sh", "printf '%s\\n' \"{S},kube-proxy,kube-proxy\" > tokens.csv\n"),
    ("init.sh", "sudo tee /etc/kubernetes/token.csv <<< '{S},ops,ops'\n"),
    (
        "deploy/apiserver-tokens.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kube-apiserver-token-config\n  namespace: kube-system\ndata:\n  token.csv: |\n    {S},kubelet-bootstrap,10001\n",
    ),
    (
        "cm.json",
        "{\n    \"apiVersion\": \"v1\",\n    \"data\": {\n        \"token.csv\": \"{S},kubelet-bootstrap,10001,\\\"system:kubelet-bootstrap\\\"\\n\"\n    },\n    \"kind\": \"ConfigMap\"\n}\n",
    ),
    (
        "roles/master/tasks/main.yml",
        "- name: Write the static token file\n  copy:\n    dest: /etc/kubernetes/token.csv\n    content: \"{S},kubelet-bootstrap,10001,system:kubelet-bootstrap\\n\"\n    mode: \"0600\"\n",
    ),
    (
        "docs/static-token.md",
        "Put the row in a file:\n\n```\n{S},jane,1042,\"dev,ops\"\n```\n\nand start the API server with it:\n\n```yaml\n    - --token-auth-file=/etc/kubernetes/auth/tokens\n```\n",
    ),
    (
        "issue-2315.md",
        "> our apiserver is started with `--token-auth-file=/srv/auth.csv`:\n>\n> ```\n> {S},alice,alice\n> ```\n",
    ),
];

/// The same for basic-auth files.
const PASSWORD_CONTEXTS: &[(&str, &str)] = &[
    ("srv/kubernetes/basic_auth.csv", "{S},admin,admin,system:masters\n"),
    ("etc/basic-auth.csv", "{S},alice,1001,\"developers\"\n"),
    (
        "kube-up.sh",
        "(\n  umask 077\n  echo \"{S},admin,admin\" > /srv/kubernetes/basic_auth.csv\n)\n",
    ),
    (
        "provision.sh",
        "cat > /etc/kubernetes/basic-auth.csv <<EOF\n{S},admin,1,\"system:masters\"\nEOF\n",
    ),
    (
        "docs/basic-auth.md",
        "Create `/etc/kubernetes/users.csv`:\n\n```csv\n{S},alice,1001,\"developers\"\n```\n\nThen add `- --basic-auth-file=/etc/kubernetes/users.csv` to the manifest.\n",
    ),
    (
        "Vagrantfile",
        "  master.vm.provision \"shell\", inline: <<-SHELL\n    echo '{S},vagrant,1' > /srv/kubernetes/basic_auth.csv\n  SHELL\n",
    ),
];

/// Asserts exactly one finding of `rule` per `{S}` in each context, at its line and column.
fn assert_found(contexts: &[(&str, &str)], rule: &str, secret: &str) {
    for (path, ctx) in contexts {
        let text = ctx.replace("{S}", secret);
        let found = scan(path, &text);
        let got: Vec<(&str, usize, usize, &str)> = found
            .iter()
            .map(|f| (f.rule_id.as_str(), f.line, f.column, f.secret.expose()))
            .collect();
        let want: Vec<(&str, usize, usize, &str)> = places(&text, secret)
            .into_iter()
            .map(|(l, c)| (rule, l, c, secret))
            .collect();
        assert_eq!(got, want, "{path}:\n{text}");
    }
}

#[test]
fn a_static_token_is_found_in_every_context() {
    assert_found(TOKEN_CONTEXTS, "k8s-static-token", &hex32());
}

#[test]
fn a_basic_auth_password_is_found_in_every_context() {
    assert_found(PASSWORD_CONTEXTS, "k8s-static-password", &password16());
}

#[test]
fn placeholders_are_silent_in_every_context() {
    for stand_in in [
        "${BOOTSTRAP_TOKEN}",
        "{{ kube_bootstrap_token }}",
        "<token>",
        "$(head -c 16 /dev/urandom | od -An -t x | tr -d ' ')",
        "token",
        // The Kubernetes documentation's bearer token, the course's, a leetspeak dummy.
        "31ada4fd-adec-460c-809a-9e56ceb75269",
        "cncamp-token",
        "chAng3m3",
        "KUBELET_TOKEN",
        "abcdef1234567890",
        "07401b.f395accd246ae52d",
    ] {
        for (path, ctx) in TOKEN_CONTEXTS {
            let found = scan(path, &ctx.replace("{S}", stand_in));
            assert!(found.is_empty(), "{path} with {stand_in}: {found:?}");
        }
    }
    for stand_in in [
        "${KUBE_PASSWORD}",
        "password",
        "password123",
        "passw0rd",
        "mypassword",
        "changeme",
        "admin",
        "123456",
        "<password>",
    ] {
        for (path, ctx) in PASSWORD_CONTEXTS {
            let found = scan(path, &ctx.replace("{S}", stand_in));
            assert!(found.is_empty(), "{path} with {stand_in}: {found:?}");
        }
    }
}

#[test]
fn the_documented_format_line_is_silent() {
    for (path, text) in [
        ("known_tokens.csv", "token,user,uid,\"group1,group2,group3\"\n"),
        ("basic_auth.csv", "password,user,uid,\"group1,group2,group3\"\n"),
        (
            "authentication.md",
            "The token file is a csv file with a minimum of 3 columns: token, user name, user uid,\nfollowed by optional group names, passed with `--token-auth-file=SOMEFILE`:\n\n```\ntoken,user,uid,\"group1,group2,group3\"\n```\n",
        ),
    ] {
        let found = scan(path, text);
        assert!(found.is_empty(), "{path}: {found:?}");
    }
}

#[test]
fn rows_without_a_static_file_are_silent() {
    let t = hex32();
    for (path, text) in [
        // A CSV row alone says nothing.
        ("README.md", format!("```\n{t},alice,1000\n```\n")),
        ("users.csv", format!("{t},alice,1000\n")),
        // The file is named, but 20 lines away.
        (
            "notes.md",
            format!("See token.csv.\n{}{t},alice,1000\n", "\n".repeat(20)),
        ),
        // Some other program's tokens.csv: a data table with a header.
        (
            "data/tokens.csv",
            format!("mint,symbol,decimals\n{t},USDC,6\n{t}ff,SOL,9\n"),
        ),
        // basic-auth Secrets of an ingress are htpasswd lines, not kube-apiserver rows.
        (
            "longhorn/basic-auth.sh",
            "USER=admin; PASSWORD=Xk9qPz2mWvBn7Tr4\necho \"${USER}:$(openssl passwd -stdin -apr1 <<< ${PASSWORD})\" >> auth\nkubectl -n longhorn-system create secret generic basic-auth --from-file=auth\n".to_owned(),
        ),
        // A basic-auth name in a Go source file: only scripts and documents are searched.
        (
            "pkg/setup.go",
            format!("// writes /srv/kubernetes/basic_auth.csv\nconst row = \"\"\n// {t},admin,admin\n"),
        ),
    ] {
        let found = scan(path, &text);
        assert!(found.is_empty(), "{path}: {found:?}");
    }
}

#[test]
fn system_masters_rows_are_critical_and_say_whom_they_authenticate() {
    let (a, b, c) = (hex32(), hex32(), password16());
    let tokens = format!(
        "{a},admin,admin,system:masters\n{b},system:node:ip-10-0-1-17,uid:ip-10-0-1-17,\"system:nodes,system:authenticated\"\n"
    );
    let found = scan("srv/kubernetes/known_tokens.csv", &tokens);
    let got: Vec<(usize, Severity, &str)> = found
        .iter()
        .map(|f| (f.line, f.severity, f.description.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (
                1,
                Severity::Critical,
                "kube-apiserver static token (--token-auth-file) of user admin, groups system:masters"
            ),
            (
                2,
                Severity::High,
                "kube-apiserver static token (--token-auth-file) of user system:node:ip-10-0-1-17, groups system:nodes,system:authenticated"
            ),
        ]
    );
    let found = scan(
        "basic_auth.csv",
        &format!("{c},admin,admin,\"system:masters\"\n"),
    );
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].rule_id, "k8s-static-password");
    assert_eq!(found[0].severity, Severity::Critical);
    // Secrets are never in the description or the redacted text.
    assert!(!found[0].description.contains(&c));
    assert!(!found[0].secret.redacted().contains(&c));
}

#[test]
fn a_streamed_token_file_keeps_every_row_at_its_line() {
    // 8,000 rows (about 530 KiB), read in 256 KiB chunks: rows on chunk boundaries are
    // found once, at their true line.
    let rows: Vec<String> = (0..8000)
        .map(|i| format!("{},system:node:node-{i},uid-{i},system:nodes\n", hex32()))
        .collect();
    let text = rows.concat();
    let scanner = Scanner::builder().chunk_size(256 * 1024).build().unwrap();
    let mut found: Vec<Finding> = Vec::new();
    scanner
        .scan_reader(
            Cursor::new(text.as_bytes()),
            &Origin::path("known_tokens.csv"),
            &mut found,
        )
        .unwrap();
    let lines: Vec<usize> = found.iter().map(|f| f.line).collect();
    assert_eq!(lines, (1..=8000).collect::<Vec<_>>());
    for (f, row) in found.iter().zip(&rows) {
        assert_eq!(f.secret.expose(), &row[..32]);
        assert_eq!(f.column, 1);
    }
}

#[test]
fn hostile_rows_never_panic() {
    for text in [
        "\"".repeat(10_000),
        ",,,,,,,,\n".repeat(1000),
        "a,\"b".to_owned(),
        "cat <<\n".to_owned(),
        "echo \" > token.csv\n".to_owned(),
        "token.csv\":".to_owned(),
        "printf '%s\\n' > token.csv".to_owned(),
        format!("{}token.csv", "\n".repeat(5)),
        format!("token.csv: \"{}", "\\n".repeat(5000)),
    ] {
        for path in ["known_tokens.csv", "notes.md", "x.sh"] {
            let _ = scan(path, &text);
        }
    }
}
