use std::sync::OnceLock;

use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::json;

use super::*;

/// One RSA-2048 key per test binary (PKCS#1 PEM), for really signed RS256 tokens.
fn rsa_key() -> &'static EncodingKey {
    static KEY: OnceLock<EncodingKey> = OnceLock::new();
    KEY.get_or_init(|| {
        use rsa::pkcs1::EncodeRsaPrivateKey;
        let key = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).expect("rsa keygen");
        let pem = key
            .to_pkcs1_pem(rsa::pkcs8::LineEnding::LF)
            .expect("pem")
            .to_string();
        EncodingKey::from_rsa_pem(pem.as_bytes()).expect("rsa key")
    })
}

fn legacy(sa: &str) -> serde_json::Value {
    json!({
        "iss": "kubernetes/serviceaccount",
        "kubernetes.io/serviceaccount/namespace": "ci",
        "kubernetes.io/serviceaccount/secret.name": format!("{sa}-token-x7k2q"),
        "kubernetes.io/serviceaccount/service-account.name": sa,
        "kubernetes.io/serviceaccount/service-account.uid": "6c4a1a3e-2d4b-4f37-9d2a-0c1e5b7f9a11",
        "sub": format!("system:serviceaccount:ci:{sa}"),
    })
}

fn rs256(sa: &str) -> String {
    let mut h = Header::new(Algorithm::RS256);
    h.kid = Some("Xy9aZ3bQwErTyUiOpAsDfGhJkLzXcVbNm1234567890".into());
    h.typ = None;
    encode(&h, &legacy(sa), rsa_key()).expect("sign")
}

fn hs256(claims: &serde_json::Value) -> String {
    let key = EncodingKey::from_secret(b"a shared secret of the app, 32 bytes");
    encode(&Header::new(Algorithm::HS256), claims, &key).expect("sign")
}

/// `text` hard-wrapped at `width` columns, as a terminal or `fold -w` breaks it.
fn fold(text: &str, width: usize, nl: &str) -> String {
    let b = text.as_bytes();
    b.chunks(width)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join(nl)
}

/// The finding for the first `eyJ` of `text`: (reassembled secret, end).
fn at(text: &str) -> Option<(String, usize)> {
    let start = text.find("eyJ").unwrap();
    let f = token(text.as_bytes(), start)?;
    let secret = f.joined.unwrap_or_else(|| text[start..f.end].to_owned());
    Some((secret, f.end))
}

#[test]
fn a_hard_wrap_at_any_width_is_undone_after_any_prefix() {
    let tok = rs256("deployer");
    for width in [64, 76, 80, 100, 120, 132] {
        for prefix in ["", "token:      ", "    export KUBE_TOKEN="] {
            for nl in ["\n", "\r\n"] {
                let text = fold(&format!("{prefix}{tok}"), width, nl) + nl + "done" + nl;
                let want_end = text.rfind(nl).unwrap() - 4 - nl.len();
                let got = at(&text);
                assert_eq!(
                    got,
                    Some((tok.clone(), want_end)),
                    "width {width}, prefix {prefix:?}, {nl:?}"
                );
            }
        }
    }
}

#[test]
fn fixed_length_signatures_are_completed_too() {
    let tok = hs256(
        &json!({"sub": "svc-backup", "iss": "https://auth.example.com", "exp": 4_102_444_800i64}),
    );
    let text = fold(&format!("Authorization: Bearer {tok}"), 50, "\n") + "\n";
    assert_eq!(at(&text).map(|t| t.0), Some(tok));
}

#[test]
fn a_one_line_token_keeps_its_exact_end() {
    let tok = rs256("deployer");
    for after in [
        "\nfoo: bar\n",
        "\nabcdefgh\n",
        "\n    --server=https://c:6443\n",
        "\\\n  get pods\n",
    ] {
        let text = format!("token: {tok}{after}");
        assert_eq!(at(&text), Some((tok.clone(), 7 + tok.len())), "{after:?}");
    }
    // A full last line followed by a line of base64url text: the join is tried (the widths
    // say the line may go on) and rejected by the structure check.
    let width = 80;
    let pad = width - tok.len() % width;
    let text = fold(&format!("{}{tok}", " ".repeat(pad)), width, "\n") + "\nAAAABBBBCCCC\n";
    let end = text.len() - "\nAAAABBBBCCCC\n".len();
    assert_eq!(at(&text), Some((tok, end)));
}

#[test]
fn tokens_one_per_line_stay_apart() {
    let (a, b) = (rs256("builder"), rs256("deploys"));
    assert_eq!(a.len(), b.len());
    let text = format!("{a}\n{b}\n");
    assert_eq!(at(&text), Some((a.clone(), a.len())));
    // Cut after the header's dot, a payload on the next line is joined; another token is not.
    let (h, _) = a.split_once('.').unwrap();
    let text = format!("{h}.\n{b}\n");
    assert_eq!(at(&text), None);
}

#[test]
fn a_cut_off_token_is_not_completed_by_the_next_line() {
    let tok = rs256("deployer");
    let cut = &tok[..tok.len() - 200];
    for after in [
        "\necho done\n",
        "\nkind: Secret\n",
        "\nZXhhbXBsZQ\n",
        "\n\nabc\n",
    ] {
        assert_eq!(at(&format!("{cut}{after}")), None, "{after:?}");
    }
    // Even where the next line would complete the signature, a key (`xyzw: …`) or an
    // assignment is the next line's own text, not the token's tail; marked as going on, the
    // same tail is joined.
    let hs = hs256(&json!({"sub": "svc-backup"}));
    let (head, tail) = hs.split_at(hs.len() - 4);
    for after in [": value", "=1", "/x"] {
        assert_eq!(at(&format!("{head}\n{tail}{after}\n")), None, "{after:?}");
    }
    let text = format!("{head}\\\n{tail} \n");
    assert_eq!(at(&text).map(|t| t.0), Some(hs.clone()));
    // Cut inside the header or payload: nothing decodes.
    assert_eq!(at(&format!("{}\nnamespace: ci\n", &tok[..60])), None);
}

/// `line` as readline echoes it under `script(1)` on a terminal `width` columns wide: each
/// full row ends with a space and a CR, or (`dup`) with the next character, a CR, and that
/// character again (observed with bash 5.2, typed and pasted).
fn readline(line: &str, width: usize, dup: bool, esc: &str) -> String {
    let rows: Vec<&str> = line
        .as_bytes()
        .chunks(width)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    let mut out = String::new();
    for (i, row) in rows.iter().enumerate() {
        if i > 0 {
            if dup {
                out.push_str(&row[..1]);
                out.push('\r');
            } else {
                out.push_str(" \r");
            }
            out.push_str(esc);
        }
        out.push_str(row);
    }
    out + "\r\n"
}

#[test]
fn readline_wraps_in_a_typescript() {
    let tok = rs256("deployer");
    let cmd = format!("$ kubectl --server=https://127.0.0.1:6443 --token={tok} get pods");
    for width in [80, 120] {
        for dup in [false, true] {
            for esc in ["", "\x1b[K"] {
                let text = readline(&cmd, width, dup, esc);
                let got = at(&text).map(|t| t.0);
                assert_eq!(
                    got,
                    Some(tok.clone()),
                    "width {width} dup {dup} esc {esc:?}"
                );
                let end = token(text.as_bytes(), text.find("eyJ").unwrap())
                    .unwrap()
                    .end;
                assert!(
                    text[end..].starts_with(" get pods"),
                    "width {width} dup {dup}"
                );
            }
        }
    }
}

#[test]
fn book_and_shell_markers() {
    let tok = rs256("deployer");
    let ends = ["\\", "\u{21a9}", " \u{23ce}", "\u{21b5}"];
    let starts = ["", "    ", "\u{27a5} ", "    \u{21aa} ", "\u{27a5}"];
    for end in ends {
        for start in ["", "  "] {
            let text = fold(&tok, 60, &format!("{end}\n{start}")) + "\n";
            assert_eq!(
                at(&text).map(|t| t.0),
                Some(tok.clone()),
                "{end:?} {start:?}"
            );
        }
    }
    // Lines of unequal widths: joined where a start marker says so; without one, the
    // widths show no hard wrap and only the structure justifies a join (the first two).
    let (a, rest) = tok.split_at(70);
    let (b, rest) = rest.split_at(300);
    let (c, d) = rest.split_at(200);
    for start in starts {
        let text = format!("    {a}\n{start}{b}\n{start}{c}\n{start}{d}\n");
        let marked = start.contains('\u{27a5}') || start.contains('\u{21aa}');
        let want = marked.then(|| tok.clone());
        assert_eq!(at(&text).map(|t| t.0), want, "{start:?}");
    }
    let text = format!("    {a}\n{b}\n{}\n", &tok[370..]);
    assert_eq!(
        at(&text).map(|t| t.0),
        Some(tok.clone()),
        "split by hand after a prefix"
    );
}

#[test]
fn the_window_is_bounded() {
    let tok = rs256("deployer");
    // More lines than MAX_PIECES: not reassembled.
    let width = tok.len() / MAX_PIECES;
    let text = fold(&tok, width, "\n") + "\n";
    assert_eq!(at(&text), None);
    let text = fold(&tok, width + 2, "\n") + "\n";
    assert_eq!(at(&text).map(|t| t.0), Some(tok));
    // A token longer than MAX_JOINED: found on one line only.
    let big = hs256(&json!({"sub": "x", "groups": vec!["g".repeat(40); 220]}));
    assert!(big.len() > MAX_JOINED);
    assert_eq!(at(&format!("{big}\n")).map(|t| t.0), Some(big.clone()));
    assert_eq!(at(&(fold(&big, 120, "\n") + "\n")), None);
}

#[test]
fn shapes() {
    let tok = rs256("deployer");
    let (h, rest) = tok.split_once('.').unwrap();
    let (p, s) = rest.split_once('.').unwrap();
    assert_eq!(shape_of(&h.as_bytes()[..20]), Shape::Incomplete);
    assert_eq!(shape_of(format!("{h}.eyJ").as_bytes()), Shape::Incomplete);
    assert_eq!(
        shape_of(format!("{h}.{p}.{}", &s[..100]).as_bytes()),
        Shape::Incomplete
    );
    assert_eq!(shape_of(tok.as_bytes()), Shape::Complete);
    assert_eq!(shape_of(format!("{h}.abc").as_bytes()), Shape::Broken);
    assert_eq!(
        shape_of(format!("{}.{p}", &h[..20]).as_bytes()),
        Shape::Broken
    );
    assert_eq!(
        shape_of(b"eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."),
        Shape::Broken
    );
}

#[test]
fn min_signature_agrees_with_signature_fits() {
    for alg in [
        "ES256", "ES384", "ES512", "HS256", "HS384", "HS512", "EdDSA", "RS256", "PS512", "XYZ",
    ] {
        let m = min_signature(alg);
        assert!(jwt::signature_fits(alg, m), "{alg}");
        assert!(!jwt::signature_fits(alg, m - 1), "{alg}");
    }
}

#[test]
fn the_strict_check() {
    let tok = rs256("deployer");
    let jwt = jwt::parse(tok.as_bytes(), 0).unwrap();
    assert!(strict(tok.as_bytes(), &jwt));
    // A signature of 255 bytes or with bits set past its last byte is no RSA-2048 one.
    let cut = &tok[..tok.len() - 2];
    assert!(!strict(
        cut.as_bytes(),
        &jwt::parse(cut.as_bytes(), 0).unwrap()
    ));
    let mut odd = tok.clone();
    odd.pop();
    odd.push('B');
    assert!(!strict(
        odd.as_bytes(),
        &jwt::parse(odd.as_bytes(), 0).unwrap()
    ));
}
