//! One Aho-Corasick automaton over every rule's keywords.
//!
//! A keyword hit only says "look here": the rule it triggers confirms or rejects the
//! candidate in a window around it. Keywords are chosen so that ordinary text (logs, YAML,
//! source) rarely hits them, which is what keeps the scan at memory-bandwidth speed.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

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

/// Built-in keywords. Base64 keywords are the stable characters of base64("eyJhbGci"),
/// base64("-----BEGIN") etc. at each of the three byte alignments.
const BUILTIN: &[(&str, Trigger)] = &[
    ("eyJ", Trigger::Jwt),
    // base64 of a JWT as the whole value (a Secret's data.token): alignment 0.
    ("ZXlK", Trigger::Base64),
    // base64 of a JWT header inside larger base64 text, alignments 1 and 2.
    ("V5SmhiR2Np", Trigger::Base64),
    ("leUpoYkdja", Trigger::Base64),
    ("V5SjBlWEFp", Trigger::Base64),
    ("leUowZVhBa", Trigger::Base64),
    ("V5SnJhV1Fp", Trigger::Base64),
    ("leUpyYVdRa", Trigger::Base64),
    // base64("-----BEGIN"), three alignments.
    ("LS0tLS1CRUdJT", Trigger::Base64),
    ("0tLS0tQkVHSU", Trigger::Base64),
    ("tLS0tLUJFR0lO", Trigger::Base64),
    // base64("apiVersion"): a whole manifest or kubeconfig stored base64-encoded.
    ("YXBpVmVyc2lvb", Trigger::Base64),
    ("FwaVZlcnNpb2", Trigger::Base64),
    ("hcGlWZXJzaW9u", Trigger::Base64),
    ("-----BEGIN", Trigger::Pem),
    ("-----BEGIN%20", Trigger::PercentPem),
    ("%2D%2D%2D%2D%2DBEGIN", Trigger::PercentPem),
    ("%2d%2d%2d%2d%2dBEGIN", Trigger::PercentPem),
    ("token:", Trigger::KubeconfigKey),
    ("token\"", Trigger::KubeconfigKey),
    ("password", Trigger::KubeconfigKey),
    ("client-secret", Trigger::KubeconfigKey),
    ("client-key-data", Trigger::KubeconfigKey),
    ("kubeadm", Trigger::Kubeadm),
    ("token-secret", Trigger::BootstrapSecret),
    ("dockerconfigjson", Trigger::DockerConfig),
    ("dockercfg", Trigger::DockerConfig),
    ("\\nusers:\\n", Trigger::JsonEscapedYaml),
    ("\\ndata:\\n", Trigger::JsonEscapedYaml),
    ("\\nstringData:\\n", Trigger::JsonEscapedYaml),
];

/// The compiled automaton and what each pattern triggers.
pub(crate) struct Prefilter {
    ac: AhoCorasick,
    triggers: Vec<Trigger>,
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
    /// Builds the automaton from the built-in keywords plus `(keyword, custom rule index)`.
    pub(crate) fn new(custom: &[(String, usize)]) -> Result<Self, aho_corasick::BuildError> {
        let patterns: Vec<&[u8]> = BUILTIN.iter().map(|(k, _)| k.as_bytes()).collect();
        let triggers: Vec<Trigger> = BUILTIN.iter().map(|&(_, t)| t).collect();
        // Leftmost-longest so that e.g. `-----BEGIN%20` wins over `-----BEGIN`.
        let ac = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostLongest)
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
            ac,
            triggers,
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

    /// All non-overlapping keyword hits in `data`, in order.
    pub(crate) fn hits<'a>(&'a self, data: &'a [u8]) -> impl Iterator<Item = Hit> + 'a {
        self.ac.find_iter(data).map(move |m| Hit {
            start: m.start(),
            end: m.end(),
            trigger: self.triggers[m.pattern().as_usize()],
        })
    }
}
