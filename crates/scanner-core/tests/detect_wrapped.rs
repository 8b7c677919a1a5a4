//! Issue 9 item 5: tokens split across lines are reassembled and reported at their first
//! line. Each context is laid out as the tool that split it writes it — a terminal's hard
//! wrap of `kubectl describe secret` output, a CI log, readline's redraw in a `script(1)`
//! typescript, GNU `base64` and `openssl base64` wrapping, the continuation markers of
//! shells, books and blogs — with a really signed token, and has a negative twin.

mod common;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use scanner_core::verify::KeySet;
use scanner_core::{Finding, Origin, Scanner, SignatureStatus};

/// 2025-01-01T00:00:00Z, as the other fixture tests.
const NOW: i64 = 1_735_689_600;

fn scanner() -> Scanner {
    let mut keys = KeySet::new();
    keys.add_pem(common::keys().rsa.public_pem.as_bytes(), "sa.pub")
        .unwrap();
    Scanner::builder().now(NOW).keys(keys).build().unwrap()
}

fn scan(path: &str, text: &str) -> Vec<Finding> {
    scanner().scan_bytes(text.as_bytes(), &Origin::path(path))
}

fn legacy() -> String {
    common::legacy_token("kube-system", "admin-user", "admin-user-token-22hpd")
}

fn bound() -> String {
    common::bound_token(
        "ci",
        "deployer",
        "deployer-7d9f8c6b5-x2k4q",
        "https://kubernetes.default.svc.cluster.local",
        NOW - 600,
        3600,
    )
}

/// Every line of `text` longer than `width` columns broken as a terminal (or tmux's
/// `capture-pane`, or `fold -w`) breaks it: the rest goes on at column 0 of the next line.
fn hard_wrap(text: &str, width: usize, nl: &str) -> String {
    let mut out = String::new();
    for line in text.split('\n') {
        let mut rest = line;
        while rest.len() > width {
            let (row, more) = rest.split_at(width);
            out.push_str(row);
            out.push_str(nl);
            rest = more;
        }
        out.push_str(rest);
        out.push_str(nl);
    }
    out.truncate(out.len() - nl.len());
    out
}

/// (line, column) of byte `at` in `text`, 1-based, as the scanner counts.
fn position(text: &str, at: usize) -> (usize, usize) {
    let line = text[..at].matches('\n').count() + 1;
    let column = at - text[..at].rfind('\n').map_or(0, |p| p + 1) + 1;
    (line, column)
}

/// The only finding, checked against the unwrapped token: rule, secret, where it starts,
/// claims, and a signature the cluster's key verifies.
fn assert_reassembled(
    ctx: &str,
    found: &[Finding],
    token: &str,
    rule: &str,
    start: usize,
    text: &str,
) {
    assert_eq!(found.len(), 1, "{ctx}: {found:#?}");
    let f = &found[0];
    assert_eq!(f.rule_id, rule, "{ctx}");
    assert_eq!(f.secret.expose(), token, "{ctx}: the joined token");
    assert_eq!(
        (f.line, f.column),
        position(text, start),
        "{ctx}: its first line"
    );
    assert_eq!(f.byte_offset as usize, start, "{ctx}");
    let t = f.token.as_ref().expect("token details");
    assert_eq!(
        t.signature,
        SignatureStatus::Valid,
        "{ctx}: signature of the joined token"
    );
    // The fingerprint is the one-line token's.
    let one = scan(&f.path, &format!("{token}\n"));
    assert_eq!(one[0].fingerprint, f.fingerprint, "{ctx}");
}

/// `kubectl describe secret` of a legacy token Secret (kubectl's tabwriter pads with
/// spaces; older versions wrote a tab after `token:`).
fn describe(token: &str, sep: &str) -> String {
    format!(
        "Name:         admin-user-token-22hpd\nNamespace:    kube-system\nLabels:       <none>\n\
         Annotations:  kubernetes.io/service-account.name: admin-user\n              \
         kubernetes.io/service-account.uid: 96e2c6cb-58e1-4737-b723-b93439ba94c6\n\n\
         Type:  kubernetes.io/service-account-token\n\nData\n====\nca.crt:     1066 bytes\n\
         namespace:  11 bytes\ntoken:{sep}{token}\n"
    )
}

#[test]
fn kubectl_describe_pasted_from_a_terminal_of_any_width() {
    let token = legacy();
    for width in [80, 100, 120, 132] {
        for sep in ["      ", "\t"] {
            for nl in ["\n", "\r\n"] {
                let text = hard_wrap(&describe(&token, sep), width, nl);
                let ctx = format!("width {width}, {sep:?}, {nl:?}");
                let found = scan("describe.txt", &text);
                let start = text.find("eyJ").unwrap();
                assert_reassembled(&ctx, &found, &token, "k8s-sa-token-legacy", start, &text);
                let f = &found[0];
                let t = f.token.as_ref().unwrap();
                assert_eq!(t.namespace.as_deref(), Some("kube-system"), "{ctx}");
                assert_eq!(t.service_account.as_deref(), Some("admin-user"), "{ctx}");
                // It ends where its last piece ends, on the last line of the output.
                let last = text.trim_end().len();
                assert_eq!((f.end_line, f.end_column), position(&text, last), "{ctx}");
            }
        }
    }
}

#[test]
fn a_kubeconfig_pasted_hard_wrapped_is_the_jwt_not_a_cut_static_token() {
    let token = legacy();
    let text = hard_wrap(
        &format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    server: https://10.0.0.1:6443\n  name: prod\n\
             users:\n- name: admin-user\n  user:\n    token: {token}\n"
        ),
        80,
        "\n",
    );
    let found = scan("kubeconfig.txt", &text);
    let start = text.find("eyJ").unwrap();
    assert_reassembled(
        "kubeconfig",
        &found,
        &token,
        "k8s-sa-token-legacy",
        start,
        &text,
    );
}

#[test]
fn a_ci_log_with_a_folded_token() {
    // A Jenkins console log (AnsiColor plugin): a bound token printed through `fold -w 64`,
    // coloured, CRLF from a Windows agent in one variant.
    let token = bound();
    let folded = hard_wrap(&token, 64, "\n");
    for nl in ["\n", "\r\n"] {
        let text = format!(
            "Started by user deploy-bot\n[Pipeline] sh\n+ kubectl create token deployer -n ci --duration=1h\n\
             + fold -w 64\n\u{1b}[32m{folded}\u{1b}[0m\n+ kubectl --token=*** get pods -n ci\n\
             NAME                        READY   STATUS    RESTARTS   AGE\n"
        )
        .replace('\n', nl);
        let found = scan("console.log", &text);
        let start = text.find("eyJ").unwrap();
        assert_reassembled(
            &format!("jenkins {nl:?}"),
            &found,
            &token,
            "k8s-sa-token-bound",
            start,
            &text,
        );
        let t = found[0].token.as_ref().unwrap();
        assert_eq!(t.pod.as_deref(), Some("deployer-7d9f8c6b5-x2k4q"));
    }
}

/// How bash's readline echoes `line` on a terminal `width` columns wide, as `script(1)`
/// records it (observed with bash 5.2 under script from util-linux 2.38): each full row ends
/// with a space and a CR when typed, or with the next row's first character, a CR, and that
/// character again when pasted; `esc` is what the terminal's redraw adds after the CR.
fn readline_echo(line: &str, width: usize, pasted: bool, esc: &str) -> String {
    let rows: Vec<&str> = line
        .as_bytes()
        .chunks(width)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    let mut out = String::new();
    for (i, row) in rows.iter().enumerate() {
        if i > 0 {
            if pasted {
                out.push_str(&row[..1]);
                out.push('\r');
            } else {
                out.push_str(" \r");
            }
            out.push_str(esc);
        }
        out.push_str(row);
    }
    out
}

#[test]
fn a_script_typescript_of_a_long_command() {
    let token = legacy();
    for width in [80, 120] {
        for pasted in [false, true] {
            for esc in ["", "\u{1b}[K"] {
                let prompt = "ops@bastion:~$ ";
                let cmd = format!(
                    "{prompt}kubectl --server=https://10.0.0.1:6443 --token={token} get pods -A"
                );
                let text = format!(
                    "Script started on 2024-05-01 10:00:00+00:00 [TERM=\"xterm-256color\" TTY=\"/dev/pts/3\" COLUMNS=\"{width}\" LINES=\"40\"]\n\
                     \u{1b}[?2004h{}\r\n\u{1b}[?2004l\rNAMESPACE     NAME                      READY   STATUS    RESTARTS   AGE\r\n\
                     kube-system   coredns-5d78c9869d-8xk2l   1/1     Running   0          12d\r\n\
                     \u{1b}[?2004h{prompt}exit\r\n\u{1b}[?2004l\rexit\r\n\n\
                     Script done on 2024-05-01 10:00:09+00:00 [COMMAND_EXIT_CODE=\"0\"]\n",
                    readline_echo(&cmd, width, pasted, esc)
                );
                let ctx = format!("width {width}, pasted {pasted}, {esc:?}");
                let found = scan("typescript", &text);
                let start = text.find("eyJ").unwrap();
                assert_reassembled(&ctx, &found, &token, "k8s-sa-token-legacy", start, &text);
                assert_eq!(found[0].line, 2, "{ctx}");
            }
        }
    }
}

/// GNU `base64` (76 columns) and `openssl base64` (64 columns) output.
fn wrapped_base64(bytes: &[u8], width: usize) -> String {
    hard_wrap(&STANDARD.encode(bytes), width, "\n")
}

#[test]
fn base64_wrapped_at_76_and_64_columns_is_decoded_whole() {
    let token = legacy();
    for (tool, width, input) in [
        // `echo "$TOKEN" | base64`: the newline is encoded too.
        ("base64", 76, format!("{token}\n")),
        ("base64", 76, token.clone()),
        ("openssl base64", 64, format!("{token}\n")),
    ] {
        let b64 = wrapped_base64(input.as_bytes(), width);
        // As printed in a terminal log, and pasted into a Secret's block scalar.
        let log = format!("$ echo \"$TOKEN\" | {tool}\n{b64}\n$ \n");
        let indented = b64.replace('\n', "\n    ");
        let secret = format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: admin-user-token\ntype: kubernetes.io/service-account-token\ndata:\n  token: |\n    {indented}\n"
        );
        for (ctx, text) in [("log", log), ("secret", secret)] {
            let ctx = format!("{tool} {width} {ctx}");
            let found = scan("out.txt", &text);
            assert_eq!(found.len(), 1, "{ctx}: {found:#?}");
            let f = &found[0];
            assert_eq!(f.rule_id, "k8s-sa-token-legacy", "{ctx}");
            assert_eq!(f.secret.expose(), token, "{ctx}");
            assert_eq!(f.decoded_from, ["base64"], "{ctx}");
            let at = text.find(&b64[..8]).unwrap();
            assert_eq!((f.line, f.column), position(&text, at), "{ctx}");
        }
    }
}

#[test]
fn book_and_shell_continuation_markers() {
    let token = legacy();
    // (end of a wrapped line, start of the next): a shell's `\`, the return symbols books
    // print at the margin, the arrows that start a continuation, with indentation.
    let styles = [
        ("\\", ""),
        ("\u{21a9}", ""),
        (" \u{23ce}", "    "),
        ("\u{21b5}", "  "),
        ("", "    \u{27a5} "),
        ("", "\u{21aa}"),
        ("\u{21a9}", "  \u{27a5} "),
    ];
    for (end, start) in styles {
        for width in [56, 70] {
            let body = hard_wrap(&token, width, &format!("{end}\n{start}"));
            let text = format!(
                "Then call the API with the token:\n\n    curl -k -H \"Authorization: Bearer {body}\" \\\n      https://10.0.0.1:6443/api/v1/namespaces\n"
            );
            let ctx = format!("{end:?} {start:?} width {width}");
            let found = scan("chapter-07.md", &text);
            let at = text.find("eyJ").unwrap();
            assert_reassembled(&ctx, &found, &token, "k8s-sa-token-legacy", at, &text);
        }
    }
}

/// Placeholders and cut-off tokens wrapped the same ways: nothing to report.
#[test]
fn placeholders_and_cut_off_tokens_wrapped_are_silent() {
    let token = legacy();
    let samples = [
        // A documentation sample cut off with an ellipsis.
        "eyJhbGciOiJSUzI1NiIsImtpZCI6IiJ9.eyJpc3MiOiJrdWJlcm5ldGVzL3NlcnZpY2VhY2NvdW50Iiwia3ViZXJuZXRlcy5pby9zZXJ2aWNlYWNjb3VudC9uYW1lc3BhY2UiOiJrdWJlLXN5c3RlbSJ9...".to_owned(),
        // A real token cut in the middle of its signature (a log line limit), short of the
        // 128 bytes an RSA signature has at least. (Cut later, it passes as whole, on one
        // line as wrapped: glued text is no reason to hide a token.)
        token[..token.len() - 200].to_owned(),
        // Cut in the payload.
        token[..300].to_owned(),
    ];
    for s in &samples {
        for width in [64, 80] {
            let text = hard_wrap(&describe(s, "      "), width, "\n");
            assert!(
                scan("describe.txt", &text).is_empty(),
                "describe {width}: {s}"
            );
            let text = hard_wrap(&format!("{s}\nNAME   READY\n"), width, "\n");
            assert!(scan("console.log", &text).is_empty(), "log {width}: {s}");
            let cmd = format!("$ kubectl --token={s} get pods");
            let text = readline_echo(&cmd, width, false, "") + "\r\n";
            assert!(
                scan("typescript", &text).is_empty(),
                "typescript {width}: {s}"
            );
            let text = hard_wrap(s, width, "\u{21a9}\n\u{27a5} ");
            assert!(scan("book.md", &text).is_empty(), "book {width}: {s}");
        }
    }
    // The base64 of a token cut off in its signature, wrapped at 76. (Decoded, it is on one
    // line, where a signature of 128 bytes or more passes as whole: cut shorter.)
    let b64 = wrapped_base64(&token.as_bytes()[..token.len() - 200], 76);
    assert!(scan("out.txt", &format!("{b64}\n")).is_empty());
}

#[test]
fn the_next_line_is_never_glued_to_a_whole_token() {
    let token = legacy();
    // What follows a token on the next line in real files: a YAML key, another token, a
    // shell command, a word, base64 text.
    let other = bound();
    for after in [
        "foo: bar".to_owned(),
        "ca.crt:     1066 bytes".to_owned(),
        other.clone(),
        "kubectl get pods".to_owned(),
        "done".to_owned(),
        "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo".to_owned(),
    ] {
        let text = format!("token: {token}\n{after}\n");
        let found = scan("notes.txt", &text);
        let first = &found[0];
        assert_eq!(first.secret.expose(), token, "after {after:?}");
        assert_eq!((first.line, first.end_line), (1, 1), "after {after:?}");
        assert_eq!(
            found.len(),
            1 + usize::from(after == other),
            "after {after:?}"
        );
    }
    // Equal-width lines of whole tokens (a token list) stay apart too.
    let (a, b) = (
        legacy(),
        common::legacy_token("kube-system", "admin-user", "admin-user-token-x9k2m"),
    );
    assert_eq!(a.len(), b.len());
    let found = scan("tokens.txt", &format!("{a}\n{b}\n"));
    let secrets: Vec<&str> = found.iter().map(|f| f.secret.expose()).collect();
    assert_eq!(secrets, [a.as_str(), b.as_str()]);
}

#[test]
fn a_wrapped_token_across_a_chunk_boundary_is_found_once() {
    let token = legacy();
    let chunk = 256 * 1024;
    let scanner = Scanner::builder()
        .now(NOW)
        .chunk_size(chunk)
        .build()
        .unwrap();
    let filler_line =
        "I0501 10:00:00.000000       1 reflector.go:255] Listing and watching *v1.Pod\n";
    for shift in [0usize, 200, 700] {
        let mut text = String::new();
        while text.len() + shift < chunk - 300 {
            text.push_str(filler_line);
        }
        let wrapped = hard_wrap(&describe(&token, "      "), 80, "\n");
        text.push_str(&wrapped);
        text.push_str(filler_line);
        let mut out = scanner_core::Collected::default();
        scanner
            .scan_reader(text.as_bytes(), &Origin::path("big.log"), &mut out)
            .unwrap();
        let found = out.findings;
        assert_eq!(found.len(), 1, "shift {shift}: {found:#?}");
        let start = text.find("eyJ").unwrap();
        assert_eq!(found[0].secret.expose(), token, "shift {shift}");
        assert_eq!(found[0].line, position(&text, start).0, "shift {shift}");
    }
}
