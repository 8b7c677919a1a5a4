//! Values that stand in for a secret rather than being one: template variables, redaction
//! markers, self-describing names (`KUBELET_TOKEN`, `blue-token`) and values with too little
//! randomness to be a generated token. Docs, charts and tutorials are full of them.

/// Values no secret ever is: redaction markers, variable references of any template
/// language, angle-bracket placeholders, runs of one character, well-known dummies.
pub(crate) fn is_placeholder(value: &str) -> bool {
    let v = value.trim();
    let lower = v.to_ascii_lowercase();
    if v.len() < 4
        || lower.contains("redacted")
        || v == "DATA+OMITTED"
        || (v.starts_with('<') && v.ends_with('>'))
        || v.contains("${")
        || v.contains("$(")
        || v.contains("{{")
        || v.starts_with('$')
        // Windows `%TOKEN%`, Ansible's `VALUE_SPECIFIED_IN_NO_LOG_PARAMETER` is a name.
        || (v.len() > 2 && v.starts_with('%') && v.ends_with('%'))
        // `##TOKEN##`, `@TOKEN@`, `__TOKEN__`: replaced by a build or deploy step.
        || wrapped_name(v)
        || v.contains("...")
        || v.contains('…')
    {
        return true;
    }
    let first = v.as_bytes()[0];
    if v.bytes().all(|b| b == first) {
        return true;
    }
    matches!(
        lower.as_str(),
        "null"
            | "none"
            | "true"
            | "false"
            | "changeme"
            | "password"
            | "secret"
            | "example"
            | "your-token"
            | "your_token"
            | "token"
            | "xxxx"
            | "placeholder"
            | "notasecret"
    )
}

/// An identifier between matching marker characters (`##TOKEN##`, `@KUBE_TOKEN@`).
fn wrapped_name(v: &str) -> bool {
    let b = v.as_bytes();
    let lead = b
        .iter()
        .take_while(|&&c| matches!(c, b'#' | b'@' | b'_'))
        .count();
    let trail = b
        .iter()
        .rev()
        .take_while(|&&c| matches!(c, b'#' | b'@' | b'_'))
        .count();
    lead > 0
        && lead == trail
        && lead * 2 < b.len()
        && b[..lead] == b[b.len() - trail..]
        && b[lead..b.len() - trail]
            .iter()
            .all(|&c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
}

/// Runs of consecutive characters (`12345678ABCDEFG`, `abcdef.0123456789abcdef`) make up
/// at least half of `v`: typed by hand or rearranged from documentation, never generated.
pub(crate) fn is_sequential(v: &str) -> bool {
    let chars: Vec<u8> = v.bytes().filter(|b| b.is_ascii_alphanumeric()).collect();
    let runs = chars.windows(2).filter(|w| w[1] == w[0] + 1).count();
    chars.len() >= 4 && runs * 2 >= chars.len()
}

/// A name rather than a value: an environment-variable style identifier (`KUBELET_TOKEN`,
/// `K8S_API_TOKEN`) or lowercase words joined by `-`, `_`, `.` or `/` (`blue-token`,
/// `my.secret`, `foo/restricted-psp-users`). Generated tokens mix digits in; these never do (or only as a word suffix).
pub(crate) fn is_name(value: &str) -> bool {
    let v = value.trim();
    let upper_snake = v
        .bytes()
        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        && v.as_bytes().first().is_some_and(u8::is_ascii_uppercase)
        && (v.contains('_') || v.bytes().all(|b| b.is_ascii_uppercase()));
    if upper_snake {
        return true;
    }
    let mut words = v.split(['-', '_', '.', '/']);
    v.contains(['-', '_', '.', '/'])
        && words.all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase()))
}

/// Whether an opaque value (a static bearer token, a client secret) looks generated: not a
/// placeholder or a name, and either mixing character classes or long and varied enough.
pub(crate) fn looks_generated(value: &str) -> bool {
    let v = value.trim();
    if v.len() < 8 || is_placeholder(v) || is_name(v) || is_sequential(v) {
        return false;
    }
    let classes = [
        v.bytes().any(|b| b.is_ascii_lowercase()),
        v.bytes().any(|b| b.is_ascii_uppercase()),
        v.bytes().any(|b| b.is_ascii_digit()),
        v.bytes().any(|b| !b.is_ascii_alphanumeric()),
    ]
    .iter()
    .filter(|&&c| c)
    .count();
    classes >= 2 || (v.len() >= 16 && entropy(v) >= 3.0)
}

/// Shannon entropy of `s` in bits per byte.
fn entropy(s: &str) -> f64 {
    let mut counts = [0u32; 256];
    for b in s.bytes() {
        counts[b as usize] += 1;
    }
    let n = s.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

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

/// A dummy word (`password123`, `chAng3m3`, `mypassword`): read as letters (leetspeak
/// undone), without trailing digits or punctuation, it is one of [`DUMMY_WORDS`] or
/// contains `password` or `changeme`.
pub(crate) fn is_dummy_word(v: &str) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_pass() {
        for t in [
            "8f2kq9x7m3n5p1w4z6r0t8y2u4i6o9a3",
            "31ada4fd-adec-460c-809a-9e56ceb75269",
            "dGhpcyBpcyBub3QgYSB0b2tlbg==",
            "sha256~Xk3qPz9mW2vR7tYb1nC5dF8gH0jL4sA6",
            "kXqPzRtYwMvBnCdF",
            "qxzmvbrtplkwhgfd",
        ] {
            assert!(looks_generated(t), "{t}");
        }
    }

    #[test]
    fn names_variables_and_dummies_do_not() {
        for t in [
            "KUBELET_TOKEN",
            "K8S_API_TOKEN",
            "ADMINTOKEN",
            "blue-token",
            "my_secret_token",
            "kube.admin.token",
            "foo/restricted-psp-users",
            "%KUBE_TOKEN%",
            "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER",
            "********",
            "${TOKEN}",
            "{{ .Values.token }}",
            "<token>",
            "changeme",
            "aaaaaaaaaaaaaaaaaaaa",
            "abababababababababab",
            "short",
            "##TOKEN##",
            "@KUBE_TOKEN@",
            "12345678ABCDEFG",
        ] {
            assert!(!looks_generated(t), "{t}");
        }
    }
}
