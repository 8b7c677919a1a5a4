//! Finds the few places in a buffer worth a rule's attention, at memory-bandwidth speed.
//!
//! A keyword hit only says "look here": the rule it triggers confirms or rejects the
//! candidate in a window around it. Two searchers run over each block of input:
//! `memchr::memmem` for `eyJ` (the start of every JWT), and one Aho-Corasick automaton (SIMD
//! Teddy) for all other keywords. They are kept apart because a 3-byte pattern inside a
//! 30-pattern automaton forces Teddy onto short fingerprints and makes the whole search
//! about three times slower; for the same reason keywords that share a stem (`token:`,
//! `token"`, `token-secret`) are searched as the stem and told apart here.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, Input, MatchKind};
use memchr::memmem;

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
    /// A dockerconfigjson / dockercfg Secret.
    DockerConfig,
    /// A YAML document inside a JSON string (`\n` escapes).
    JsonEscapedYaml,
    /// A custom rule's keyword (index into the scanner's custom rules).
    Custom(usize),
}

/// How an automaton match becomes a hit: directly, or after looking at what follows it.
#[derive(Debug, Clone, Copy)]
enum Key {
    /// The match is the keyword.
    Is(Trigger),
    /// A stem: the keyword is the stem plus one of these suffixes (none matching: no hit).
    Stem(&'static [(&'static str, Trigger)]),
}

/// The stem `token` and what may follow it.
const TOKEN: &[(&str, Trigger)] = &[
    (":", Trigger::KubeconfigKey),
    ("\"", Trigger::KubeconfigKey),
    ("-secret", Trigger::BootstrapSecret),
];
/// `-----BEGIN`: plain PEM, or percent-encoded after its first space.
const BEGIN: &[(&str, Trigger)] = &[("%20", Trigger::PercentPem), ("", Trigger::Pem)];
const CLIENT: &[(&str, Trigger)] = &[
    ("secret", Trigger::KubeconfigKey),
    ("key-data", Trigger::KubeconfigKey),
];
const DOCKER: &[(&str, Trigger)] = &[
    ("onfigjson", Trigger::DockerConfig),
    ("fg", Trigger::DockerConfig),
];

/// Built-in keywords besides `eyJ`. Base64 keywords are the stable characters of
/// base64("eyJhbGci"), base64("-----BEGIN") etc. at each of the three byte alignments.
const BUILTIN: &[(&str, Key)] = &[
    // base64 of a JWT as the whole value (a Secret's data.token): alignment 0.
    ("ZXlK", Key::Is(Trigger::Base64)),
    // base64 of a JWT header inside larger base64 text, alignments 1 and 2.
    ("V5SmhiR2Np", Key::Is(Trigger::Base64)),
    ("leUpoYkdja", Key::Is(Trigger::Base64)),
    ("V5SjBlWEFp", Key::Is(Trigger::Base64)),
    ("leUowZVhBa", Key::Is(Trigger::Base64)),
    ("V5SnJhV1Fp", Key::Is(Trigger::Base64)),
    ("leUpyYVdRa", Key::Is(Trigger::Base64)),
    // base64("-----BEGIN"), three alignments.
    ("LS0tLS1CRUdJT", Key::Is(Trigger::Base64)),
    ("0tLS0tQkVHSU", Key::Is(Trigger::Base64)),
    ("tLS0tLUJFR0lO", Key::Is(Trigger::Base64)),
    // base64("apiVersion"): a whole manifest or kubeconfig stored base64-encoded.
    ("YXBpVmVyc2lvb", Key::Is(Trigger::Base64)),
    ("FwaVZlcnNpb2", Key::Is(Trigger::Base64)),
    ("hcGlWZXJzaW9u", Key::Is(Trigger::Base64)),
    ("-----BEGIN", Key::Stem(BEGIN)),
    ("%2D%2D%2D%2D%2DBEGIN", Key::Is(Trigger::PercentPem)),
    ("%2d%2d%2d%2d%2dBEGIN", Key::Is(Trigger::PercentPem)),
    ("token", Key::Stem(TOKEN)),
    ("password", Key::Is(Trigger::KubeconfigKey)),
    ("client-", Key::Stem(CLIENT)),
    ("kubeadm", Key::Is(Trigger::Kubeadm)),
    ("dockerc", Key::Stem(DOCKER)),
    ("\\nusers:\\n", Key::Is(Trigger::JsonEscapedYaml)),
    ("\\ndata:\\n", Key::Is(Trigger::JsonEscapedYaml)),
    ("\\nstringData:\\n", Key::Is(Trigger::JsonEscapedYaml)),
];

/// Bytes searched per block: both searchers run over one block while it is in L2 cache.
const BLOCK: usize = 256 * 1024;

/// The compiled searchers and what each pattern triggers.
pub(crate) struct Prefilter {
    jwt: memmem::Finder<'static>,
    ac: AhoCorasick,
    keys: Vec<Key>,
    /// Longest pattern: blocks are searched this far past their end so that no keyword is
    /// cut by a block boundary.
    longest: usize,
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
}

impl Prefilter {
    /// Builds the searchers from the built-in keywords plus `(keyword, custom rule index)`.
    pub(crate) fn new(custom: &[(String, usize)]) -> Result<Self, aho_corasick::BuildError> {
        let patterns: Vec<&[u8]> = BUILTIN.iter().map(|(k, _)| k.as_bytes()).collect();
        let keys: Vec<Key> = BUILTIN.iter().map(|&(_, k)| k).collect();
        let longest = patterns.iter().map(|p| p.len()).max().unwrap_or(0);
        // No built-in keyword is a prefix of another, so leftmost-first loses nothing.
        let ac = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostFirst)
            .build(&patterns)?;
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
            let ac = AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .build(&keywords)?;
            Some(CustomKeywords { ac, rules })
        };
        Ok(Prefilter {
            jwt: memmem::Finder::new(b"eyJ").into_owned(),
            ac,
            keys,
            longest,
            custom,
        })
    }

    /// Every custom-keyword hit in `data` (overlapping ones too), once per rule it triggers.
    pub(crate) fn custom_hits<'a>(&'a self, data: &'a [u8]) -> impl Iterator<Item = Hit> + 'a {
        self.custom.iter().flat_map(move |c| {
            c.ac.find_overlapping_iter(data).flat_map(move |m| {
                c.rules[m.pattern().as_usize()].iter().map(move |&idx| Hit {
                    start: m.start(),
                    end: m.end(),
                    trigger: Trigger::Custom(idx),
                })
            })
        })
    }

    /// All keyword hits in `data`, in order of their start.
    pub(crate) fn hits<'a>(&'a self, data: &'a [u8]) -> Hits<'a> {
        Hits {
            pf: self,
            data,
            next_block: 0,
            buf: Vec::new(),
            pos: 0,
        }
    }

    /// Appends the hits that start in `data[start..end]`, sorted by start.
    fn block(&self, data: &[u8], start: usize, end: usize, out: &mut Vec<Hit>) {
        let ext = (end + self.longest.max(3) - 1).min(data.len());
        for p in self.jwt.find_iter(&data[start..ext]) {
            if start + p < end {
                out.push(Hit {
                    start: start + p,
                    end: start + p + 3,
                    trigger: Trigger::Jwt,
                });
            }
        }
        let jwt_hits = out.len();
        for m in self.ac.find_iter(Input::new(data).range(start..ext)) {
            if m.start() >= end {
                break;
            }
            let hit = match self.keys[m.pattern().as_usize()] {
                Key::Is(trigger) => Some(Hit {
                    start: m.start(),
                    end: m.end(),
                    trigger,
                }),
                Key::Stem(suffixes) => suffixes
                    .iter()
                    .find(|(s, _)| data[m.end()..].starts_with(s.as_bytes()))
                    .map(|&(s, trigger)| Hit {
                        start: m.start(),
                        end: m.end() + s.len(),
                        trigger,
                    }),
            };
            out.extend(hit);
        }
        if jwt_hits > 0 && out.len() > jwt_hits {
            out.sort_by_key(|h| h.start);
        }
    }
}

/// Iterator over the hits of one buffer, produced block by block.
pub(crate) struct Hits<'a> {
    pf: &'a Prefilter,
    data: &'a [u8],
    next_block: usize,
    buf: Vec<Hit>,
    pos: usize,
}

impl Iterator for Hits<'_> {
    type Item = Hit;

    fn next(&mut self) -> Option<Hit> {
        while self.pos == self.buf.len() {
            if self.next_block >= self.data.len() {
                return None;
            }
            self.buf.clear();
            self.pos = 0;
            let start = self.next_block;
            let end = (start + BLOCK).min(self.data.len());
            self.pf.block(self.data, start, end, &mut self.buf);
            self.next_block = end;
        }
        let hit = self.buf[self.pos];
        self.pos += 1;
        Some(hit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn triggers(data: &[u8]) -> Vec<(usize, usize, Trigger)> {
        let pf = Prefilter::new(&[]).unwrap();
        pf.hits(data).map(|h| (h.start, h.end, h.trigger)).collect()
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
    fn hits_come_in_order_across_block_boundaries() {
        // Keywords placed to straddle block boundaries, JWT starts in between.
        let mut data = vec![b'.'; 3 * BLOCK + 100];
        let mut want = Vec::new();
        for k in 1..=2 {
            let at = k * BLOCK - 4;
            data[at..at + 8].copy_from_slice(b"password");
            want.push((at, at + 8, Trigger::KubeconfigKey));
            data[at + 20..at + 23].copy_from_slice(b"eyJ");
            want.push((at + 20, at + 23, Trigger::Jwt));
        }
        let at = 3 * BLOCK - 2;
        data[at..at + 3].copy_from_slice(b"eyJ");
        want.push((at, at + 3, Trigger::Jwt));
        assert_eq!(triggers(&data), want);
    }

    #[test]
    fn custom_keywords_have_their_own_case_insensitive_automaton() {
        let pf = Prefilter::new(&[("acme_".to_owned(), 7), ("ACME".to_owned(), 8)]).unwrap();
        let data = b"x Acme_123 eyJ";
        let custom: Vec<_> = pf.custom_hits(data).map(|h| (h.start, h.trigger)).collect();
        // Overlapping matches come in order of their end: `acme` before `acme_`.
        assert_eq!(
            custom,
            vec![(2, Trigger::Custom(8)), (2, Trigger::Custom(7))]
        );
        let builtin: Vec<_> = pf.hits(data).map(|h| h.trigger).collect();
        assert_eq!(builtin, vec![Trigger::Jwt]);
    }
}
