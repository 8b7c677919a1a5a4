//! Finds the few places in a buffer worth a rule's attention, at memory-bandwidth speed.
//!
//! A keyword hit only says "look here": the rule it triggers confirms or rejects the
//! candidate in a window around it. All built-in keywords go into one Aho-Corasick automaton
//! that runs as SIMD Teddy. Teddy slows down sharply beyond about 20 patterns (measured on
//! the bench logs: 24 patterns 11 GB/s, 19 patterns 14 GB/s on one core), so keywords that
//! share a stem (`token:`, `token"`, `token-secret`; the base64 forms of `{"alg"`, `{"typ"`,
//! `{"kid"`) are searched as the stem and told apart here, by what follows (or, for base64
//! text at other byte alignments, what precedes) the match.

use aho_corasick::{
    packed, AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, Input, MatchKind, Span, StartKind,
};

/// What a keyword hit asks the scanner to look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Trigger {
    /// Start of a JWT (`{"` base64url-encoded).
    Jwt,
    /// Base64 text that decodes to something worth rescanning (a JWT, PEM, manifest).
    Base64,
    /// `-----BEGIN` of a PEM block.
    Pem,
    /// Percent-encoded PEM.
    PercentPem,
    /// A kubeconfig user field (`token`, `password`, `client-key-data`, OIDC fields).
    KubeconfigKey,
    /// A `kubeadm` command line.
    Kubeadm,
    /// A bootstrap-token Secret's `token-secret`.
    BootstrapSecret,
    /// A value assigned to a key or variable named like a token (`K8S_JOIN_TOKEN=`,
    /// `bootstrapToken:`, `'token' =>`, `--discovery-token`): a bootstrap token there.
    BootstrapKey,
    /// The `TOKEN  TTL …` header of `kubeadm token list` output.
    BootstrapList,
    /// A dockerconfigjson / dockercfg Secret.
    DockerConfig,
    /// A YAML document inside a JSON string (`\n` escapes).
    JsonEscapedYaml,
    /// A kube-apiserver static token file named (`token.csv`, `known_tokens.csv`,
    /// `--token-auth-file`): CSV rows around it may be its content.
    StaticTokenFile,
}

/// How an automaton match becomes a hit: directly, or after looking at what follows it.
#[derive(Debug, Clone, Copy)]
enum Key {
    /// The match is the keyword.
    Is(Trigger),
    /// A stem: the keyword is `before`, the stem, then one of these suffixes (none
    /// matching: no hit). Searching a keyword's rare middle instead of its common start
    /// (`--BEGIN`, not `---`, which opens every YAML document) keeps Teddy's candidate
    /// checks few.
    Stem(&'static str, &'static [(&'static str, Trigger)]),
    /// Base64 at a quad boundary (phase 0): the match is the keyword.
    Base64Start,
    /// Base64 of a phrase at some byte alignment: one of these forms must surround the match.
    Base64(&'static [Form]),
    /// `oken`/`OKEN` after `t`/`T`: `token` in any spelling, told apart by what follows.
    Token,
}

/// A base64 keyword inside larger base64 text: the keyword, how far into it the stem sits,
/// and where the keyword starts in its group of four characters (its phase), which tells
/// the decoder where groups begin when it cannot see the run's start.
type Form = (&'static str, usize, u8);

/// `-----BEGIN`: plain PEM, or percent-encoded after its first space.
const BEGIN: &[(&str, Trigger)] = &[("%20", Trigger::PercentPem), ("", Trigger::Pem)];
const CLIENT: &[(&str, Trigger)] = &[
    ("secret", Trigger::KubeconfigKey),
    ("key-data", Trigger::KubeconfigKey),
];
const DOCKER: &[(&str, Trigger)] = &[("", Trigger::DockerConfig)];
const PASSWORD: &[(&str, Trigger)] = &[("", Trigger::KubeconfigKey)];
const KUBEADM: &[(&str, Trigger)] = &[("", Trigger::Kubeadm)];

/// base64 of a JWT header (`{"alg"`, `{"typ"`, `{"kid"`) inside larger base64 text, at byte
/// alignments 1 and 2: the stable characters of base64("eyJhbGci") etc.
const JWT_B64_1: &[Form] = &[
    ("V5SmhiR2Np", 0, 2),
    ("V5SjBlWEFp", 0, 2),
    ("V5SnJhV1Fp", 0, 2),
];
const JWT_B64_2: &[Form] = &[
    ("leUpoYkdja", 0, 3),
    ("leUowZVhBa", 0, 3),
    ("leUpyYVdRa", 0, 3),
];
/// base64("-----BEGIN") at the three alignments, all around the stem `LS0t`.
const PEM_B64: &[Form] = &[
    ("LS0tLS1CRUdJT", 0, 0),
    ("0tLS0tQkVHSU", 2, 2),
    ("tLS0tLUJFR0lO", 1, 3),
];
/// base64("apiVersion"): a whole manifest or kubeconfig stored base64-encoded.
const API_B64_0: &[Form] = &[("YXBpVmVyc2lvb", 0, 0)];
const API_B64_1: &[Form] = &[("FwaVZlcnNpb2", 0, 2)];
const API_B64_2: &[Form] = &[("hcGlWZXJzaW9u", 0, 3)];
/// Percent-encoded `-----BEGIN`, either case of hex digit.
const PCT_UPPER: &[(&str, Trigger)] = &[("%2D%2D%2DBEGIN", Trigger::PercentPem)];
const PCT_LOWER: &[(&str, Trigger)] = &[("%2d%2d%2dBEGIN", Trigger::PercentPem)];

/// Built-in keywords: 22 patterns, which keeps Teddy near full speed.
///
/// The order is a performance choice, not a semantic one: no keyword is a prefix of
/// another, so leftmost-first finds the same matches in any order, but Slim Teddy puts
/// pattern `i` in bucket `7 - i % 8` (aho-corasick 1.1, `packed/teddy/generic.rs`), and a
/// bucket matches every combination of its patterns' nibbles. This order was searched for
/// the fewest candidate checks on the throughput bench's text, Rust and Go sources and
/// Debian's documentation: Teddy alone went from 3–8 to 15–20 GB/s on them (one core). See
/// "Keyword order" in README before adding a keyword.
const BUILTIN: &[(&str, Key)] = &[
    ("rconfigjson", Key::Stem("docke", DOCKER)),
    // base64 of that again (a Secret whose value was base64-encoded twice): base64("ZXlK").
    ("WlhsS", Key::Base64Start),
    ("--BEGIN", Key::Stem("---", BEGIN)),
    ("\\nstringData:\\n", Key::Is(Trigger::JsonEscapedYaml)),
    ("\\nusers:\\n", Key::Is(Trigger::JsonEscapedYaml)),
    ("leU", Key::Base64(JWT_B64_2)),
    ("hcGlWZX", Key::Base64(API_B64_2)),
    ("beadm", Key::Stem("ku", KUBEADM)),
    ("rcfg", Key::Stem("docke", DOCKER)),
    ("%2d%2d", Key::Stem("", PCT_LOWER)),
    ("V5S", Key::Base64(JWT_B64_1)),
    ("LS0t", Key::Base64(PEM_B64)),
    ("FwaVZl", Key::Base64(API_B64_1)),
    // `token`, `Token` (`bootstrapToken`) and `TOKEN` (`K8S_JOIN_TOKEN`) in two patterns.
    ("oken", Key::Token),
    ("client-", Key::Stem("", CLIENT)),
    ("%2D%2D", Key::Stem("", PCT_UPPER)),
    // base64 of a JWT as the whole value (a Secret's data.token): alignment 0.
    ("ZXlK", Key::Base64Start),
    ("YXBpVmVy", Key::Base64(API_B64_0)),
    ("eyJ", Key::Is(Trigger::Jwt)),
    ("ssword", Key::Stem("pa", PASSWORD)),
    ("\\ndata:\\n", Key::Is(Trigger::JsonEscapedYaml)),
    ("OKEN", Key::Token),
];

/// The compiled searchers and what each pattern triggers.
pub(crate) struct Prefilter {
    /// Teddy on its own: every match it reports is a keyword, so there is nothing to
    /// confirm. On input dense with keyword look-alikes (`ZXlK` on every line) the general
    /// searcher's confirmation of each match was half the scan time. `None` on CPUs
    /// without the SIMD Teddy needs.
    packed: Option<packed::Searcher>,
    /// The general searcher, used where `packed` is unavailable.
    ac: AhoCorasick,
    /// A full DFA without prefilter for stretches dense with matches: Teddy restarts its
    /// block scan after every match, which on a match every few bytes (`ZXlK` or `eyJ` on
    /// every line) cost more than the rest of the scan together, while the DFA's cost per
    /// byte is flat. Both are leftmost-first, so switching between matches changes nothing.
    dense: AhoCorasick,
    keys: Vec<Key>,
    /// Custom rules' keywords, only when a configuration has any.
    custom: Option<CustomKeywords>,
}

/// Custom keywords match case-insensitively (as in gitleaks) and may overlap (`key` and
/// `api_key` trigger different rules), so they get an automaton of their own: built only
/// when custom rules exist, it leaves the built-in scan exactly as fast as without them.
struct CustomKeywords {
    ac: AhoCorasick,
    /// Per distinct keyword: the custom rules it triggers.
    rules: Vec<Vec<usize>>,
}

/// One keyword hit.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Hit {
    pub start: usize,
    pub end: usize,
    pub trigger: Trigger,
    /// For base64 hits: where `start` sits in its group of four characters.
    pub phase: u8,
}

impl Prefilter {
    /// Builds the searchers from the built-in keywords plus `(keyword, custom rule index)`.
    pub(crate) fn new(custom: &[(String, usize)]) -> Result<Self, aho_corasick::BuildError> {
        let patterns: Vec<&[u8]> = BUILTIN.iter().map(|(k, _)| k.as_bytes()).collect();
        let keys: Vec<Key> = BUILTIN.iter().map(|&(_, k)| k).collect();
        // No built-in keyword is a prefix of another, so leftmost-first loses nothing.
        let ac = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostFirst)
            .build(&patterns)?;
        let dense = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostFirst)
            .kind(Some(AhoCorasickKind::DFA))
            .start_kind(StartKind::Unanchored)
            .prefilter(false)
            .build(&patterns)?;
        let packed = packed::Config::new()
            .match_kind(packed::MatchKind::LeftmostFirst)
            .builder()
            .extend(&patterns)
            .build();
        let custom = if custom.is_empty() {
            None
        } else {
            let mut keywords: Vec<String> = Vec::new();
            let mut rules: Vec<Vec<usize>> = Vec::new();
            for (kw, idx) in custom {
                let kw = kw.to_ascii_lowercase();
                match keywords.iter().position(|k| *k == kw) {
                    Some(p) => rules[p].push(*idx),
                    None => {
                        keywords.push(kw);
                        rules.push(vec![*idx]);
                    }
                }
            }
            // A full DFA: hundreds of keywords (gitleaks' set) searched overlapping, byte by
            // byte, were 3x slower through the default NFA.
            let ac = AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .kind(Some(AhoCorasickKind::DFA))
                .build(&keywords)?;
            Some(CustomKeywords { ac, rules })
        };
        Ok(Prefilter {
            packed,
            ac,
            dense,
            keys,
            custom,
        })
    }

    /// Every custom-keyword hit in `data` (overlapping ones too) as (custom rule index,
    /// keyword range), once per rule it triggers.
    pub(crate) fn custom_hits<'a>(
        &'a self,
        data: &'a [u8],
    ) -> impl Iterator<Item = (usize, std::ops::Range<usize>)> + 'a {
        self.custom.iter().flat_map(move |c| {
            c.ac.find_overlapping_iter(data).flat_map(move |m| {
                c.rules[m.pattern().as_usize()]
                    .iter()
                    .map(move |&idx| (idx, m.start()..m.end()))
            })
        })
    }

    /// All keyword hits in `data`, in order of their start (a base64 hit may start up to
    /// two bytes before the end of the previous one).
    pub(crate) fn hits<'a>(&'a self, data: &'a [u8]) -> impl Iterator<Item = Hit> + 'a {
        let matches = Matches {
            pf: self,
            data,
            pos: 0,
            dense_until: 0,
            window_start: 0,
            count: 0,
        };
        matches.filter_map(move |(pattern, start, end)| match self.keys[pattern] {
            Key::Is(trigger) => Some(Hit {
                start,
                end,
                trigger,
                phase: 0,
            }),
            Key::Base64Start => Some(Hit {
                start,
                end,
                trigger: Trigger::Base64,
                phase: 0,
            }),
            Key::Stem(before, suffixes) => {
                let start = start.checked_sub(before.len())?;
                if !data[start..].starts_with(before.as_bytes()) {
                    return None;
                }
                suffixes
                    .iter()
                    .find(|(s, _)| data[end..].starts_with(s.as_bytes()))
                    .map(|&(s, trigger)| Hit {
                        start,
                        end: end + s.len(),
                        trigger,
                        phase: 0,
                    })
            }
            Key::Token => token_hit(data, start, end),
            Key::Base64(forms) => forms.iter().find_map(|&(form, back, phase)| {
                let at = start.checked_sub(back)?;
                data[at..].starts_with(form.as_bytes()).then(|| Hit {
                    start: at,
                    end: at + form.len(),
                    trigger: Trigger::Base64,
                    phase,
                })
            }),
        })
    }
}

/// The hit for `token` in any spelling (the stem `oken` or `OKEN` at `start..end`): a
/// kubeconfig key (`token:`, `token"`), a bootstrap Secret's `token-secret`, a value
/// assigned to a token-named key or flag, or `kubeadm token list`'s header.
fn token_hit(data: &[u8], start: usize, end: usize) -> Option<Hit> {
    let first = *data.get(start.checked_sub(1)?)?;
    if !matches!(first, b't' | b'T') {
        return None;
    }
    let hit = |len: usize, trigger| Hit {
        start: start - 1,
        end: end + len,
        trigger,
        phase: 0,
    };
    let rest = &data[end..];
    if first == b't' && data[start] == b'o' {
        match rest.first() {
            Some(b':' | b'"') => return Some(hit(1, Trigger::KubeconfigKey)),
            Some(b'-') if rest.starts_with(b"-secret") => {
                return Some(hit(7, Trigger::BootstrapSecret))
            }
            _ => {}
        }
    }
    if data[start] == b'O' && first == b'T' {
        let spaces = rest.iter().take_while(|&&b| b == b' ').count();
        if spaces >= 1 && rest[spaces..].starts_with(b"TTL") {
            return Some(hit(0, Trigger::BootstrapList));
        }
    }
    if first == b't' && data[start] == b'o' {
        if let Some(len) = token_file_name(rest) {
            return Some(hit(len, Trigger::StaticTokenFile));
        }
    }
    let spaces = rest.iter().take(2).take_while(|&&b| b == b' ').count();
    match rest.get(spaces) {
        Some(b':' | b'=' | b'"' | b'\'') => Some(hit(0, Trigger::BootstrapKey)),
        // `--token X`, `--discovery-token X`: a flag and its value.
        Some(_) if spaces == 1 && data[..start - 1].ends_with(b"-") => {
            Some(hit(0, Trigger::BootstrapKey))
        }
        _ => None,
    }
}

/// How much of `rest` (what follows `token`) names a static token file: `.csv` and `s.csv`
/// (`token.csv`, `known_tokens.csv`), `-auth-file` / `_auth_file` (the kube-apiserver flag,
/// an Ansible variable), `-auth.csv` / `_auth.csv`.
fn token_file_name(rest: &[u8]) -> Option<usize> {
    let plural = usize::from(rest.first() == Some(&b's'));
    if rest[plural..].starts_with(b".csv") {
        return Some(plural + 4);
    }
    if !matches!(rest.first(), Some(b'-' | b'_')) || !rest[1..].starts_with(b"auth") {
        return None;
    }
    match rest.get(5..) {
        Some(tail) if tail.starts_with(b".csv") => Some(9),
        Some(tail)
            if matches!(tail.first(), Some(b'-' | b'_')) && tail[1..].starts_with(b"file") =>
        {
            Some(10)
        }
        _ => None,
    }
}

/// Matches within this many bytes of each other count as dense.
const DENSE_WINDOW: usize = 2048;
/// How many matches in a [`DENSE_WINDOW`] switch to the DFA.
const DENSE_MATCHES: usize = 64;
/// How far the DFA searches before Teddy is tried again.
const DENSE_STRETCH: usize = 256 * 1024;

/// Keyword matches, (pattern, start, end), non-overlapping leftmost-first: from Teddy, or
/// from the DFA while matches are dense, or from the general searcher without Teddy.
struct Matches<'a> {
    pf: &'a Prefilter,
    data: &'a [u8],
    pos: usize,
    /// The DFA searches until here.
    dense_until: usize,
    /// Start of the current density window and the matches in it so far.
    window_start: usize,
    count: usize,
}

impl Iterator for Matches<'_> {
    type Item = (usize, usize, usize);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.pos > self.data.len() {
            return None;
        }
        let (pattern, start, end) = if self.pos < self.dense_until {
            let m = self
                .pf
                .dense
                .find(Input::new(self.data).range(self.pos..))?;
            (m.pattern().as_usize(), m.start(), m.end())
        } else if let Some(p) = &self.pf.packed {
            let m = p.find_in(self.data, Span::from(self.pos..self.data.len()))?;
            if m.start() - self.window_start > DENSE_WINDOW {
                self.window_start = m.start();
                self.count = 0;
            }
            self.count += 1;
            if self.count >= DENSE_MATCHES {
                self.dense_until = m.end() + DENSE_STRETCH;
                self.count = 0;
            }
            (m.pattern().as_usize(), m.start(), m.end())
        } else {
            let m = self.pf.ac.find(Input::new(self.data).range(self.pos..))?;
            (m.pattern().as_usize(), m.start(), m.end())
        };
        self.pos = end;
        Some((pattern, start, end))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_detector_keyword_is_searched() {
        // A detector's declared keywords must reach it: each holds a built-in pattern (a
        // stem) or is one, so the declaration and the automaton cannot drift apart.
        for d in crate::rules::detector::DETECTORS {
            for kw in d.keywords {
                assert!(
                    BUILTIN.iter().any(|(p, _)| kw.contains(p)),
                    "{}: keyword {kw:?} is not searched",
                    d.name
                );
            }
        }
    }

    fn triggers(data: &[u8]) -> Vec<(usize, usize, Trigger)> {
        let mut pf = Prefilter::new(&[]).unwrap();
        let hits: Vec<_> = pf.hits(data).map(|h| (h.start, h.end, h.trigger)).collect();
        // The general searcher (CPUs without Teddy) finds exactly the same.
        pf.packed = None;
        let general: Vec<_> = pf.hits(data).map(|h| (h.start, h.end, h.trigger)).collect();
        assert_eq!(hits, general);
        hits
    }

    #[test]
    fn dense_stretches_switch_searchers_and_find_the_same() {
        // Keyword-dense text (a match every few bytes) between ordinary text: Teddy hands
        // over to the DFA and back; every searcher alone finds the same matches.
        let mut text = String::new();
        for i in 0..20_000 {
            text.push_str(if i % 7 == 0 { "ZXlK\n" } else { "eyJ V5S " });
            if i % 5000 == 0 {
                text.push_str(&"plain log text, nothing to see here. ".repeat(5000));
                text.push_str("token: x password eyJhbGci -----BEGIN%20RSA\n");
            }
        }
        let data = text.as_bytes();
        let mut pf = Prefilter::new(&[]).unwrap();
        let mixed: Vec<_> = pf.hits(data).map(|h| (h.start, h.trigger)).collect();
        let teddy_only: Vec<_> = {
            let p = pf.packed.as_ref().unwrap();
            let mut out = Vec::new();
            let mut pos = 0;
            while let Some(m) = p.find_in(data, Span::from(pos..data.len())) {
                out.push(m.start());
                pos = m.end();
            }
            out
        };
        let dfa_only: Vec<_> = pf.dense.find_iter(data).map(|m| m.start()).collect();
        assert_eq!(teddy_only, dfa_only);
        pf.packed = None;
        let general: Vec<_> = pf.hits(data).map(|h| (h.start, h.trigger)).collect();
        assert_eq!(mixed, general);
        assert!(mixed.len() > 20_000);
    }

    #[test]
    fn stems_become_their_keywords() {
        assert_eq!(
            triggers(b"a token: x token\" y tokens token-secret: z"),
            vec![
                (2, 8, Trigger::KubeconfigKey),
                (11, 17, Trigger::KubeconfigKey),
                (27, 39, Trigger::BootstrapSecret),
            ]
        );
        assert_eq!(
            triggers(b"token.csv known_tokens.csv --token-auth-file=x token_auth.csv tokenize"),
            vec![
                (0, 9, Trigger::StaticTokenFile),
                (16, 26, Trigger::StaticTokenFile),
                (29, 44, Trigger::StaticTokenFile),
                (47, 61, Trigger::StaticTokenFile),
            ]
        );
        assert_eq!(
            triggers(b"-----BEGIN%20RSA -----BEGIN RSA client-id client-secret"),
            vec![
                (0, 13, Trigger::PercentPem),
                (17, 27, Trigger::Pem),
                (42, 55, Trigger::KubeconfigKey),
            ]
        );
        assert_eq!(
            triggers(b".dockercfg dockerconfigjson dockercompose"),
            vec![
                (1, 10, Trigger::DockerConfig),
                (11, 27, Trigger::DockerConfig)
            ]
        );
    }

    #[test]
    fn stems_searched_by_their_middle_confirm_what_precedes() {
        // `--BEGIN`, `ssword`, `beadm`, `rcfg`: the hit still spans the whole keyword, and
        // the same middle without its start (four dashes are no PEM boundary) is no hit.
        assert_eq!(
            triggers(b"-----BEGIN x --BEGIN ----BEGIN password Password kubeadm beadm"),
            vec![
                (0, 10, Trigger::Pem),
                (31, 39, Trigger::KubeconfigKey),
                (49, 56, Trigger::Kubeadm),
            ]
        );
        assert_eq!(
            triggers(b"rcfg .dockercfg x-rconfigjson dockerconfigjson"),
            vec![
                (6, 15, Trigger::DockerConfig),
                (30, 46, Trigger::DockerConfig)
            ]
        );
        // At the very start of the input there is nothing before the middle to confirm.
        assert!(triggers(b"BEGIN").is_empty());
        assert!(triggers(b"ssword").is_empty());
    }

    #[test]
    fn base64_stems_need_their_whole_form_at_its_alignment() {
        // base64("-----BEGIN ...") at alignments 0, 1 and 2 (the stem LS0t sits 0, 1 or 2
        // bytes into each form), and a bare LS0t (base64 of "---") that is none of them.
        assert_eq!(
            triggers(b"LS0tLS1CRUdJTiBD x0tLS0tQkVHSU y tLS0tLUJFR0lO LS0tCg"),
            vec![
                (0, 13, Trigger::Base64),
                (18, 30, Trigger::Base64),
                (33, 46, Trigger::Base64)
            ]
        );
        assert_eq!(
            triggers(b"aV5SmhiR2NpOi V5Sxyz leUpyYVdRa"),
            vec![(1, 11, Trigger::Base64), (21, 31, Trigger::Base64)]
        );
    }

    #[test]
    fn base64_forms_know_their_phase() {
        use base64::engine::general_purpose::STANDARD;
        use base64::Engine as _;
        let pf = Prefilter::new(&[]).unwrap();
        // Each phrase after 0, 1 and 2 bytes of prefix: every hit's phase is its offset in
        // its group of four characters.
        for phrase in [
            "eyJhbGciOiJSUzI1NiJ9",
            "eyJ0eXAiOiJKV1QifQ",
            "eyJraWQiOiJrIn0",
            "-----BEGIN RSA",
            "apiVersion: v1",
        ] {
            for prefix in 0..3 {
                let text = STANDARD.encode(format!("{}{phrase}", "\0".repeat(prefix)));
                let hits: Vec<Hit> = pf.hits(text.as_bytes()).collect();
                assert!(!hits.is_empty(), "{phrase} at {prefix}: {text}");
                for h in hits {
                    assert_eq!(h.trigger, Trigger::Base64, "{phrase} at {prefix}");
                    assert_eq!(
                        h.start % 4,
                        h.phase as usize,
                        "{phrase} at {prefix}: {text}"
                    );
                }
            }
        }
        let twice = STANDARD.encode(STANDARD.encode("eyJhbGciOiJSUzI1NiJ9"));
        let h: Vec<Hit> = pf.hits(twice.as_bytes()).collect();
        assert_eq!(
            (h[0].start, h[0].trigger, h[0].phase),
            (0, Trigger::Base64, 0)
        );
    }

    #[test]
    fn keyword_hits_come_in_order() {
        assert_eq!(
            triggers(b"password eyJhbGci %2D%2D%2D%2D%2DBEGIN kubeadm join"),
            vec![
                (0, 8, Trigger::KubeconfigKey),
                (9, 12, Trigger::Jwt),
                (18, 38, Trigger::PercentPem),
                (39, 46, Trigger::Kubeadm),
            ]
        );
    }

    #[test]
    fn custom_keywords_have_their_own_case_insensitive_automaton() {
        let pf = Prefilter::new(&[("acme_".to_owned(), 7), ("ACME".to_owned(), 8)]).unwrap();
        let data = b"x Acme_123 eyJ";
        let custom: Vec<_> = pf
            .custom_hits(data)
            .map(|(idx, r)| (r.start, idx))
            .collect();
        // Overlapping matches come in order of their end: `acme` before `acme_`.
        assert_eq!(custom, vec![(2, 8), (2, 7)]);
        let builtin: Vec<_> = pf.hits(data).map(|h| h.trigger).collect();
        assert_eq!(builtin, vec![Trigger::Jwt]);
    }
}
