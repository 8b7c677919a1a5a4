//! One row of a kube-apiserver static credential file, as kube-apiserver reads it (Go's
//! `encoding/csv`: `token,user,uid` and an optional fourth column of comma-separated groups,
//! quoted when there is more than one), and whether its first column is a credential.

use crate::candidate::Candidate;
use crate::finding::Severity;
use crate::rules::{self, bootstrap, placeholder};

use super::Kind;

/// Tokens published in the Kubernetes documentation ("Putting a bearer token in a request")
/// and copied into test scripts.
const DOC_TOKENS: &[&str] = &["31ada4fd-adec-460c-809a-9e56ceb75269"];

/// Words that stand in for a secret, also in leetspeak (`chAng3m3`, `s3cr3t`, `passw0rd`).
const DUMMY_WORDS: &[&str] = &[
    "admin",
    "changeme",
    "changeit",
    "default",
    "demo",
    "example",
    "kubernetes",
    "letmein",
    "pass",
    "passwd",
    "password",
    "qwerty",
    "root",
    "secret",
    "sekret",
    "test",
    "token",
];

/// Fields of a row a static file has at most (kube-apiserver ignores any after the
/// fourth); more are a data table, not a credential file.
const MAX_FIELDS: usize = 6;

/// Longest user or group text repeated in a finding's description.
const MAX_NAME: usize = 64;

/// A field's content (without its quotes) in buffer coordinates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Field {
    start: usize,
    end: usize,
}

/// The fields of one row, without an allocation (most rows looked at are rejected).
#[derive(Debug, Default)]
struct Fields {
    list: [Field; MAX_FIELDS],
    len: usize,
}

impl Fields {
    fn push(&mut self, f: Field) {
        self.list[self.len] = f;
        self.len += 1;
    }

    fn as_slice(&self) -> &[Field] {
        &self.list[..self.len]
    }
}

/// Splits `data[start..end]` into CSV fields. `escaped`: the row sits in a JSON or shell
/// double-quoted string, where its quotes are written `\"`. Unquoted fields with whitespace
/// or a quote are no static-file row (kube-apiserver rejects a stray quote; whitespace is
/// prose).
fn fields(data: &[u8], start: usize, end: usize, escaped: bool) -> Option<Fields> {
    let quote: &[u8] = if escaped { b"\\\"" } else { b"\"" };
    let mut out = Fields::default();
    let mut i = start;
    loop {
        if out.len == MAX_FIELDS {
            return None;
        }
        let field_end;
        if data[i..end].starts_with(quote) {
            let open = i + quote.len();
            let mut j = open;
            loop {
                let k = super::context::find(&data[j..end], quote)? + j;
                // `""` inside a quoted field is one quote.
                if !escaped && data.get(k + 1) == Some(&b'"') && k + 1 < end {
                    j = k + 2;
                    continue;
                }
                out.push(Field {
                    start: open,
                    end: k,
                });
                field_end = k + quote.len();
                break;
            }
        } else {
            let k = memchr::memchr(b',', &data[i..end]).map_or(end, |p| i + p);
            let text = &data[i..k];
            if text.iter().any(|b| b.is_ascii_whitespace() || *b == b'"') {
                return None;
            }
            out.push(Field { start: i, end: k });
            field_end = k;
        }
        match data.get(field_end) {
            _ if field_end == end => return Some(out),
            Some(b',') => i = field_end + 1,
            _ => return None,
        }
    }
}

/// The credential in the row at `data[start..end]` of a static file of `kind`, if the row
/// has kube-apiserver's shape and its first column is a credential, not a stand-in.
pub(super) fn credential(
    data: &[u8],
    start: usize,
    end: usize,
    kind: Kind,
    escaped: bool,
) -> Option<Candidate> {
    // Cheapest reject first: a row has at least two commas.
    if start >= end
        || memchr::memchr_iter(b',', &data[start..end])
            .nth(1)
            .is_none()
    {
        return None;
    }
    let fields = fields(data, start, end, escaped)?;
    let f = fields.as_slice();
    if f.len() < 3 {
        return None;
    }
    let text = |f: Field| std::str::from_utf8(&data[f.start..f.end]).ok();
    let (secret, user, uid) = (text(f[0])?, text(f[1])?, text(f[2])?);
    if user.is_empty() || uid.is_empty() || secret.chars().any(char::is_whitespace) {
        return None;
    }
    let credible = match kind {
        Kind::Token => token_credible(secret),
        Kind::Password => password_credible(secret, user, uid),
    };
    if !credible {
        return None;
    }
    let groups: Vec<&str> = match f.get(3) {
        Some(&g) => text(g)?.split(',').filter(|g| !g.is_empty()).collect(),
        None => Vec::new(),
    };
    let rule = match kind {
        Kind::Token => rules::K8S_STATIC_TOKEN,
        Kind::Password => rules::K8S_STATIC_PASSWORD,
    };
    let mut c = Candidate::new(rule, f[0].start, f[0].end, secret.to_owned());
    c.description = Some(describe(kind, user, &groups));
    // `system:masters` bypasses RBAC entirely, and a static file's rows cannot be revoked
    // without editing the file on every control-plane node and restarting kube-apiserver.
    if groups.contains(&"system:masters") {
        c.severity = Some(Severity::Critical);
    }
    Some(c)
}

/// What a responder needs first: which file the row belongs to and whom it authenticates.
fn describe(kind: Kind, user: &str, groups: &[&str]) -> String {
    let what = match kind {
        Kind::Token => "kube-apiserver static token (--token-auth-file)",
        Kind::Password => "kube-apiserver basic-auth password (--basic-auth-file)",
    };
    let mut s = format!("{what} of user {}", clip(user));
    if !groups.is_empty() {
        s.push_str(", groups ");
        s.push_str(&clip(&groups.join(",")));
    }
    s
}

/// At most [`MAX_NAME`] characters of `s`, so a hostile row cannot flood the report.
fn clip(s: &str) -> String {
    match s.char_indices().nth(MAX_NAME) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

/// A static token must look generated: not a placeholder, a name, a documentation token, a
/// dummy word, an Ethereum address (crypto `tokens.csv` lists) or a JWT (the JWT rules
/// report that one, with its claims).
fn token_credible(t: &str) -> bool {
    let stand_in = DOC_TOKENS.contains(&t)
        || is_dummy_word(t)
        || is_eth_address(t)
        || (bootstrap::is_token(t.as_bytes()) && bootstrap::is_dummy(t));
    !t.starts_with("eyJ") && placeholder::looks_generated(t) && !stand_in
}

/// A basic-auth password may be weak and still real, but not a stand-in: a placeholder, a
/// name, a dummy word, digits or a run typed in sequence, or the row's own user name or uid
/// (`admin,admin,1`, the tutorials' default).
fn password_credible(p: &str, user: &str, uid: &str) -> bool {
    p.len() >= 6
        && p != user
        && p != uid
        && !placeholder::is_placeholder(p)
        && !placeholder::is_name(p)
        && !placeholder::is_sequential(p)
        && !p.bytes().all(|b| b.is_ascii_digit())
        && !is_dummy_word(p)
}

/// A dummy word (`password123`, `chAng3m3`, `mypassword`): read as letters (leetspeak
/// undone), without trailing digits or punctuation, it is one of [`DUMMY_WORDS`] or
/// contains `password` or `changeme`.
pub(super) fn is_dummy_word(v: &str) -> bool {
    let plain: String = v
        .chars()
        .map(|c| match c {
            '0' => 'o',
            '1' => 'i',
            '3' => 'e',
            '4' | '@' => 'a',
            '5' | '$' => 's',
            '7' => 't',
            c => c.to_ascii_lowercase(),
        })
        .collect();
    let trimmed = v.trim_end_matches(|c: char| !c.is_ascii_alphabetic());
    let core = &plain[..trimmed.len()];
    let core = core.strip_prefix("my").unwrap_or(core);
    DUMMY_WORDS.contains(&core) || plain.contains("password") || plain.contains("changeme")
}

/// `0x` and 40 hex digits: an Ethereum address.
fn is_eth_address(t: &str) -> bool {
    t.len() == 42
        && (t.starts_with("0x") || t.starts_with("0X"))
        && t[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(row: &str, kind: Kind) -> Option<String> {
        credential(row.as_bytes(), 0, row.len(), kind, false).map(|c| c.secret)
    }

    #[test]
    fn fields_follow_go_csv_quoting() {
        let row = br#"t0k,alice,1000,"g1,g2","say ""hi""""#;
        let f = fields(row, 0, row.len(), false).unwrap();
        let texts: Vec<&[u8]> = f.as_slice().iter().map(|f| &row[f.start..f.end]).collect();
        assert_eq!(
            texts,
            [&b"t0k"[..], b"alice", b"1000", b"g1,g2", br#"say ""hi"""#]
        );
        let escaped = br#"t0k,alice,1000,\"system:masters\""#;
        let f = fields(escaped, 0, escaped.len(), true).unwrap();
        let g = f.as_slice()[3];
        assert_eq!(&escaped[g.start..g.end], b"system:masters");
        assert!(fields(b"a b,c,d", 0, 7, false).is_none());
        assert!(fields(b"a,b\"c,d", 0, 7, false).is_none());
        assert!(fields(b"\"open,b,c", 0, 9, false).is_none());
        assert!(fields(b"1,2,3,4,5,6,7", 0, 13, false).is_none());
    }

    #[test]
    fn generated_tokens_are_credentials() {
        for row in [
            "c199a717dc7e12437f0e5c3c358e59ae,kubelet-bootstrap,10001,\"system:kubelet-bootstrap\"",
            "vdoKpVc6F9D7u7x71Iwst1csh5F6j5Cx,kublet,kublet",
            "O0ChZzU8XQxEcUUxFUqicfXENcBEi1gX,duynn@kubernetes,1,admin",
            "ilTqJvPsratgUrdbQyv69L+AnH9CPeGNPcEBpiPPFE6vRIG3stRpc3VH99SPv74g,devops,devopsid",
        ] {
            let token = row.split(',').next().unwrap();
            assert_eq!(secret(row, Kind::Token).as_deref(), Some(token), "{row}");
        }
    }

    #[test]
    fn stand_ins_are_not() {
        for row in [
            "token,user,uid,\"group1,group2,group3\"",
            "${BOOTSTRAP_TOKEN},kubelet-bootstrap,10001,\"system:kubelet-bootstrap\"",
            "$(head -c 16 /dev/urandom | od -An -t x | tr -d ' '),kubelet-bootstrap,10001",
            "cncamp-token,cncamp,1000,\"group1,group2,group3\"",
            "token-1,system:yubo,uid:yubo,\"group1,group2,group3\"",
            "chAng3m3,admin,admin",
            "changeme,admin,admin",
            "sekret,admin,admin",
            "abcdef1234567890,hady,uid123,system:masters",
            "31ada4fd-adec-460c-809a-9e56ceb75269,testrunner,1",
            "0x86fa049857e0209aa7d9e616f7eb3b3b78ecfdb0,EOS,18",
            "EOS,EOS,0x86fa049857e0209aa7d9e616f7eb3b3b78ecfdb0",
            "07401b.f395accd246ae52d,kubelet,kubelet",
            "<token>,alice,1",
            "c199a717dc7e12437f0e5c3c358e59ae,,10001",
            "c199a717dc7e12437f0e5c3c358e59ae,kubelet",
        ] {
            assert_eq!(secret(row, Kind::Token), None, "{row}");
        }
    }

    #[test]
    fn basic_auth_passwords_may_be_weak_but_not_stand_ins() {
        for (row, want) in [
            ("Xk9#qPz2mW,alice,1001,\"developers\"", Some("Xk9#qPz2mW")),
            (
                "9a9f46.11cc97065c5277e0,kubernetes-admin,kubernetes-admin",
                Some("9a9f46.11cc97065c5277e0"),
            ),
            ("hunter2go,bob,2", Some("hunter2go")),
            ("admin,admin,1,\"system:masters\"", None),
            ("password123,user1,u0001", None),
            ("mypassword,alice,1001,\"developers\"", None),
            ("password,user,uid,\"group1,group2\"", None),
            ("123456,user,2", None),
            ("1234455,ops,3", None),
            ("default,default,3", None),
            ("${KUBE_PASSWORD},${KUBE_USER},admin", None),
            ("s3cr3t,admin,admin", None),
        ] {
            assert_eq!(secret(row, Kind::Password).as_deref(), want, "{row}");
        }
    }

    #[test]
    fn system_masters_rows_are_critical_and_described() {
        let row = "8f2kq9x7m3n5p1w4z6r0t8y2u4i6o9a3,admin,admin,\"system:masters,ops\"";
        let c = credential(row.as_bytes(), 0, row.len(), Kind::Token, false).unwrap();
        assert_eq!(c.severity, Some(Severity::Critical));
        assert_eq!(
            c.description.as_deref(),
            Some("kube-apiserver static token (--token-auth-file) of user admin, groups system:masters,ops")
        );
        let row = "8f2kq9x7m3n5p1w4z6r0t8y2u4i6o9a3,ci,ci,system:authenticated";
        let c = credential(row.as_bytes(), 0, row.len(), Kind::Token, false).unwrap();
        assert_eq!(c.severity, None);
        let long = format!("8f2kq9x7m3n5p1w4z6r0t8y2u4i6o9a3,{},1", "u".repeat(500));
        let c = credential(long.as_bytes(), 0, long.len(), Kind::Token, false).unwrap();
        assert!(c.description.unwrap().chars().count() < 130);
    }
}
