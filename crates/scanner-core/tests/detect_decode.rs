//! Credentials hidden inside encodings, nested, and the limits that keep decoding cheap.

mod common;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use scanner_core::{Origin, Scanner};

fn scan(text: &str) -> Vec<scanner_core::Finding> {
    Scanner::builder()
        .now(1_735_689_600)
        .build()
        .unwrap()
        .scan_bytes(text.as_bytes(), &Origin::path("x"))
}

/// base64 of a kubeconfig that holds `tok`, chosen to contain `/`, `+` and `=` so the
/// escaping under test really happens (base64 of a bare JWT never contains `/` or `+`).
fn b64_kubeconfig_with_specials(tok: &str) -> String {
    // '?', '>' and '~' at every byte alignment give base64 '/' and '+'; the padding run
    // varies the length until the encoding ends in '='.
    for pad in 0..3 {
        let kc = format!(
            "apiVersion: v1\nkind: Config\nusers:\n- name: a\n  user:\n    token: {tok}\n# ?>~ ?>~ ?>~{}\n",
            " ".repeat(pad)
        );
        let b = STANDARD.encode(&kc);
        if b.contains('/') && b.contains('+') && b.ends_with('=') {
            return b;
        }
    }
    unreachable!("one of three lengths pads")
}

#[test]
fn base64_inside_a_json_string_with_escaped_slashes() {
    let tok = common::legacy_token("team-a", "builder", "builder-token-abcde");
    let b = b64_kubeconfig_with_specials(&tok);
    let escaped = b.replace('/', "\\/");
    let text = format!("{{\"text\":\"kubeconfig {escaped}\"}}\n");
    let f = scan(&text);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].rule_id, "k8s-sa-token-legacy");
    assert_eq!(f[0].decoded_from, vec!["json_escape", "base64"]);
    assert_eq!(f[0].secret.expose(), tok);
    assert_eq!(
        f[0].token.as_ref().unwrap().namespace.as_deref(),
        Some("team-a")
    );
}

#[test]
fn percent_encoded_base64() {
    let tok = common::legacy_token("team-b", "ci", "ci-token-zzzzz");
    let b = b64_kubeconfig_with_specials(&tok);
    let url = format!(
        "GET /hook?data={} HTTP/1.1\n",
        b.replace('+', "%2B")
            .replace('/', "%2F")
            .replace('=', "%3D")
    );
    let f = scan(&url);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].decoded_from, vec!["percent", "base64"]);
    assert_eq!(
        f[0].token.as_ref().unwrap().namespace.as_deref(),
        Some("team-b")
    );
}

#[test]
fn double_base64_whole_kubeconfig_in_a_secret() {
    // A Secret that stores a whole kubeconfig: base64(kubeconfig), where the kubeconfig's
    // user token is itself a JWT. Also url-safe alphabet without padding.
    let tok = common::legacy_token("kube-system", "admin", "admin-token-q");
    let kc =
        format!("apiVersion: v1\nkind: Config\nusers:\n- name: a\n  user:\n    token: {tok}\n");
    let text = format!("data:\n  kubeconfig: {}\n", URL_SAFE_NO_PAD.encode(&kc));
    let f = scan(&text);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].rule_id, "k8s-sa-token-legacy");
    assert_eq!(f[0].decoded_from, vec!["base64"]);
    // Reported where the base64 characters carrying the token's first byte start.
    let at = kc.find("eyJ").unwrap();
    assert_eq!((f[0].line, f[0].column), (2, 15 + at / 3 * 4 + at % 3));
}

#[test]
fn json_escaped_kubeconfig_in_a_log_line() {
    let kc = "apiVersion: v1\nkind: Config\nusers:\n- name: ops\n  user:\n    password: S3cure-Passw0rd\n";
    let line = serde_json::json!({"level": "debug", "msg": "loaded", "kubeconfig": kc}).to_string();
    let f = scan(&format!("{line}\n"));
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].rule_id, "kubeconfig-password");
    assert_eq!(f[0].secret.expose(), "S3cure-Passw0rd");
    assert_eq!(f[0].decoded_from, vec!["json_escape"]);
    assert_eq!(f[0].column, line.find("S3cure").unwrap() + 1);
}

#[test]
fn base64_wrapped_private_key_outside_kubeconfig() {
    let pem = common::keys().ec.private_pem.clone();
    let text = format!("tls.key: {}\n", STANDARD.encode(pem));
    let f = scan(&text);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].rule_id, "private-key");
    assert_eq!(f[0].decoded_from, vec!["base64"]);
    assert_eq!((f[0].line, f[0].column), (1, 10));
}

#[test]
fn decoding_is_bounded_on_hostile_input() {
    // Megabytes of base64 that decodes to more base64 look-alikes must not blow up.
    let mut layer = "ZXlK".repeat(1000);
    for _ in 0..4 {
        layer = STANDARD.encode(layer.repeat(4));
    }
    let text = format!("x: ZXlK{layer}\n").repeat(8);
    let start = std::time::Instant::now();
    let f = scan(&text);
    assert!(f.is_empty());
    // Not a performance assertion: a generous bound that only a blow-up would cross.
    assert!(start.elapsed().as_secs() < 30);
}

#[test]
fn a_1000_plus_character_token_is_found_whole() {
    let mut claims = common::bound_claims(
        "p",
        "s",
        "pod",
        "https://issuer.example",
        1_800_000_000,
        3600,
    );
    claims["extra"] = serde_json::json!("x".repeat(600));
    let tok = common::sign_rs256("kid", &claims);
    assert!(tok.len() > 1000);
    let f = scan(&format!("Bearer {tok}"));
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].secret.expose(), tok);
    assert_eq!(f[0].end_column, 8 + tok.len());
}

#[test]
fn tokens_straddling_chunk_boundaries_are_found_once_with_true_lines() {
    let tok = common::legacy_token("edge", "straddler", "s-token-x");
    let chunk = 2 * scanner_core::CHUNK_OVERLAP;
    let scanner = Scanner::builder().chunk_size(chunk).build().unwrap();
    for shift in [0usize, 100, 500, tok.len() / 2] {
        let line = "log line with nothing in it at all, just padding text\n";
        let mut text = String::new();
        while text.len() + line.len() < chunk - shift {
            text.push_str(line);
        }
        let lines_before = text.matches('\n').count();
        text.push_str(&format!("token={tok}\n"));
        for _ in 0..5000 {
            text.push_str(line);
        }
        text.push_str(&format!("again {tok}\n"));
        let mut found = Vec::new();
        let n = scanner
            .scan_reader(text.as_bytes(), &Origin::path("big.log"), &mut found)
            .unwrap();
        assert_eq!(n as usize, text.len());
        assert_eq!(
            found.len(),
            2,
            "shift {shift}: {:?}",
            found.iter().map(|f| f.line).collect::<Vec<_>>()
        );
        assert_eq!((found[0].line, found[0].column), (lines_before + 1, 7));
        assert_eq!(
            found[0].byte_offset as usize,
            text.find("token=").unwrap() + 6
        );
        assert_eq!(found[1].line, lines_before + 5002);
        // Same as scanning it whole.
        let whole = scanner.scan_bytes(text.as_bytes(), &Origin::path("big.log"));
        assert_eq!(
            whole
                .iter()
                .map(|f| (f.line, f.column, f.byte_offset))
                .collect::<Vec<_>>(),
            found
                .iter()
                .map(|f| (f.line, f.column, f.byte_offset))
                .collect::<Vec<_>>()
        );
    }
}

#[test]
fn invalid_utf8_and_binary_noise_do_not_stop_the_scan() {
    let tok = common::app_jwt();
    let mut data = vec![0xff, 0xfe, 0x00, 0xc3, 0x28, b'\n'];
    data.extend_from_slice(tok.as_bytes());
    data.extend_from_slice(&[0x80, 0x81, b'\n']);
    let f = Scanner::new().scan_bytes(&data, &Origin::path("bin"));
    assert_eq!(f.len(), 1);
    assert_eq!((f[0].line, f[0].column), (2, 1));
}
