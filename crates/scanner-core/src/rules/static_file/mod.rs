//! kube-apiserver's static credential files: `--token-auth-file` rows
//! (`token,user,uid,"group1,group2"`, rule `k8s-static-token`) and the old `--basic-auth-file`
//! rows (`password,user,uid,"groups"`, rule `k8s-static-password`).
//!
//! A CSV row says nothing by itself, so rows count only where a static file is meant: a
//! whole input whose name says it is one (`known_tokens.csv`, `basic_auth.csv`), and lines
//! near a place that names one (`cat > token.csv <<EOF`, `echo … >> known_tokens.csv`,
//! `token.csv: |` in a ConfigMap, `--token-auth-file=…`). Token file names come from the
//! prefilter's `token` stem; basic-auth names have no keyword, so small scripts and
//! documents are searched for them once per input.

mod context;
mod row;

use crate::candidate::Candidate;
use crate::rules::detector::{Detector, Example, Expect};
use crate::rules::{self, K8S_STATIC_PASSWORD, K8S_STATIC_TOKEN};

/// Which static file a row belongs to, which decides its rule and what counts as a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `--token-auth-file`: the first column is a bearer token.
    Token,
    /// `--basic-auth-file`: the first column is a password.
    Password,
}

/// kube-apiserver's static token and basic-auth files. Basic-auth file names are searched
/// apart (no keyword), in scripts, documents and configuration.
pub(crate) const DETECTOR: Detector = Detector {
    name: "static_file",
    rules: &[K8S_STATIC_TOKEN, K8S_STATIC_PASSWORD],
    keywords: &["token.csv", "tokens.csv", "--token-auth-file"],
    examples: &[
        Example {
            path: "srv/kubernetes/known_tokens.csv",
            text: "{{opaque-token}},admin,admin,system:masters\n{{opaque-token-2}},system:node:ip-10-0-1-17,uid:ip-10-0-1-17,system:nodes\n",
            expect: &[
                Expect { rule: K8S_STATIC_TOKEN, line: 1, secret: "{{opaque-token}}" },
                Expect { rule: K8S_STATIC_TOKEN, line: 2, secret: "{{opaque-token-2}}" },
            ],
        },
        Example {
            path: "scripts/steps/token.sh",
            text: "#!/usr/bin/env bash\ncat > /opt/kubernetes/cfg/token.csv <<EOF\n{{opaque-token}},kubelet-bootstrap,10001,\"system:kubelet-bootstrap\"\nEOF\n",
            expect: &[Expect { rule: K8S_STATIC_TOKEN, line: 3, secret: "{{opaque-token}}" }],
        },
        Example {
            path: "deploy/kube-apiserver.yml",
            text: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kube-apiserver-token-config\ndata:\n  token.csv: |\n    {{opaque-token}},kubelet-bootstrap,10001\n",
            expect: &[Expect { rule: K8S_STATIC_TOKEN, line: 7, secret: "{{opaque-token}}" }],
        },
        Example {
            path: "docs/static-token.md",
            text: "```\n{{opaque-token}},jane,1042,\"dev,ops\"\n```\n\nthen add `- --token-auth-file=/etc/kubernetes/auth/tokens` to the manifest.\n",
            expect: &[Expect { rule: K8S_STATIC_TOKEN, line: 2, secret: "{{opaque-token}}" }],
        },
        Example {
            path: "cluster/kube-up.sh",
            text: "(\n  umask 077\n  echo \"{{password}},admin,admin\" > /srv/kubernetes/basic_auth.csv\n)\n",
            expect: &[Expect { rule: K8S_STATIC_PASSWORD, line: 3, secret: "{{password}}" }],
        },
        Example {
            path: "srv/kubernetes/basic-auth.csv",
            text: "{{password}},alice,1001,\"developers\"\n",
            expect: &[Expect { rule: K8S_STATIC_PASSWORD, line: 1, secret: "{{password}}" }],
        },
        Example {
            // Variables, command substitutions, the documentation's format line and token.
            path: "docs/install.md",
            text: "cat > token.csv <<EOF\n${BOOTSTRAP_TOKEN},kubelet-bootstrap,10001,\"system:kubelet-bootstrap\"\n$(head -c 16 /dev/urandom | od -An -t x | tr -d ' '),kubelet-bootstrap,10001\ntoken,user,uid,\"group1,group2,group3\"\n31ada4fd-adec-460c-809a-9e56ceb75269,testrunner,1\nEOF\n",
            expect: &[],
        },
        Example {
            // The tutorials' defaults: the user name as password, dummy words.
            path: "basic_auth.csv",
            text: "admin,admin,1,\"system:masters\"\npassword123,user1,u0001\nchAng3m3,kubelet,kubelet\n",
            expect: &[],
        },
        Example {
            // Some other program's tokens.csv, and a row with no static file named.
            path: "data/tokens.csv",
            text: "mint,symbol,decimals\n{{opaque-token}},USDC,6\n",
            expect: &[],
        },
        Example {
            path: "README.md",
            text: "```\n{{opaque-token}},alice,1000\n```\n",
            expect: &[],
        },
    ],
};

/// Lines before and after a file's name that may hold its rows (a Markdown code block next
/// to the flag, a heredoc body).
const WINDOW_LINES: usize = 12;
/// Bytes the window spans at most either way, whatever the lines' length.
const WINDOW_BYTES: usize = 4096;
/// Lines of a heredoc that writes a static file read as its rows.
const MAX_HEREDOC_LINES: usize = 1000;

/// Reads one buffer's static-file rows as the prefilter reports file names, in order.
///
/// Lines starting before `done` were read for an earlier name, each line is looked at once
/// for a heredoc, and line bounds come from a cursor that searches every byte once: the
/// work stays linear however dense the names (a file of `token.csv` lines, one huge line).
pub(crate) struct Reader<'a> {
    data: &'a [u8],
    /// Basic-auth file names (no prefilter keyword covers them), and how many are read.
    basic: Vec<usize>,
    next_basic: usize,
    done: usize,
    /// The line last looked at for a heredoc, and where the last heredoc found ends.
    heredoc_line: Option<usize>,
    heredoc_done: usize,
    /// The line end and window end of the name read last.
    last_window: Option<(usize, usize)>,
    lines: LineCursor,
    out: Vec<Candidate>,
}

impl<'a> Reader<'a> {
    /// A reader for `data`. `path` is the input's path when `data` is the input itself (not
    /// text decoded from it); `open_start`: `data` may begin in the middle of the input.
    /// An input named like a static file is read whole here.
    pub(crate) fn new(data: &'a [u8], path: Option<&str>, open_start: bool) -> Self {
        let mut r = Reader {
            data,
            basic: Vec::new(),
            next_basic: 0,
            done: 0,
            heredoc_line: None,
            heredoc_done: 0,
            last_window: None,
            lines: LineCursor::default(),
            out: Vec::new(),
        };
        let Some(path) = path else {
            return r;
        };
        if let Some(kind) = context::path_kind(path) {
            if open_start || !context::is_data_table(data) {
                read_lines(data, 0, data.len(), kind, &mut r.out);
            }
            r.done = data.len();
        } else if context::may_name_basic_auth(path, data.len()) {
            r.basic = context::basic_auth_names(data);
        }
        r
    }

    /// A token file's name (`token.csv`, `--token-auth-file`) at `at`; the prefilter's hits
    /// come in order.
    pub(crate) fn token_file(&mut self, at: usize) {
        while let Some(&b) = self.basic.get(self.next_basic).filter(|&&b| b < at) {
            self.next_basic += 1;
            self.named(b, Kind::Password);
        }
        self.named(at, Kind::Token);
    }

    /// The credentials of every row read.
    pub(crate) fn finish(mut self) -> Vec<Candidate> {
        while let Some(&b) = self.basic.get(self.next_basic) {
            self.next_basic += 1;
            self.named(b, Kind::Password);
        }
        self.out
    }

    /// Reads the rows around a static file's name at `at`.
    fn named(&mut self, at: usize, kind: Kind) {
        let data = self.data;
        if self.done == data.len() {
            return;
        }
        let ls = self.lines.start(data, at);
        let le = self.lines.end(data, at);
        let mut to = match self.last_window {
            Some((end, to)) if end == le => to,
            // A name a few lines after the last one: its window ends as many lines later.
            Some((end, to)) if end < le && le < to => {
                let lines = memchr::memchr_iter(b'\n', &data[end..le]).count();
                advance(data, to, lines, le + WINDOW_BYTES)
            }
            _ => lines_forward(data, le),
        };
        self.last_window = Some((le, to));
        if ls >= self.heredoc_done && self.heredoc_line != Some(ls) {
            self.heredoc_line = Some(ls);
            if let Some(h) = context::heredoc_end(data, ls, le, MAX_HEREDOC_LINES) {
                to = to.max(h);
                self.heredoc_done = h;
            }
        }
        let from = lines_back(data, ls, self.done);
        if from < to {
            read_lines(data, from, to, kind, &mut self.out);
        }
        self.done = self.done.max(to);
    }
}

/// Line bounds of positions asked in increasing order, each byte searched once.
#[derive(Debug, Default)]
struct LineCursor {
    /// Searched backwards up to here, and the last `\n` found before it.
    back: usize,
    last_nl: Option<usize>,
    /// The first `\n` at or after the last position asked (`None`: none, or not known yet),
    /// and how far forward the search went.
    next_nl: Option<usize>,
    fwd: usize,
}

impl LineCursor {
    /// Start of the line holding `pos`.
    fn start(&mut self, data: &[u8], pos: usize) -> usize {
        if pos > self.back {
            if let Some(p) = memchr::memrchr(b'\n', &data[self.back..pos]) {
                self.last_nl = Some(self.back + p);
            }
            self.back = pos;
        }
        self.last_nl.map_or(0, |p| p + 1)
    }

    /// End of the line holding `pos`: its `\n`, or the end of data.
    fn end(&mut self, data: &[u8], pos: usize) -> usize {
        if let Some(n) = self.next_nl.filter(|&n| n >= pos) {
            return n;
        }
        let from = pos.max(self.fwd);
        match memchr::memchr(b'\n', &data[from..]) {
            Some(p) => {
                self.next_nl = Some(from + p);
                self.fwd = from + p;
                from + p
            }
            None => {
                self.next_nl = None;
                self.fwd = data.len();
                data.len()
            }
        }
    }
}

/// Start of the line [`WINDOW_LINES`] lines before the one starting at `ls`, within
/// [`WINDOW_BYTES`] and not before `floor` (lines read already); a line cut by the byte
/// limit is left out.
fn lines_back(data: &[u8], ls: usize, floor: usize) -> usize {
    if ls <= floor {
        return floor;
    }
    let lo = ls.saturating_sub(WINDOW_BYTES).max(floor);
    let mut pos = ls;
    for _ in 0..WINDOW_LINES {
        if pos <= lo || pos == 0 {
            break;
        }
        match memchr::memrchr(b'\n', &data[lo..pos - 1]) {
            Some(p) => pos = lo + p + 1,
            None if lo == floor => pos = floor,
            None => break,
        }
    }
    pos
}

/// End of the [`WINDOW_LINES`] lines after the line ending at `le` (the start of the line
/// after them), within [`WINDOW_BYTES`].
fn lines_forward(data: &[u8], le: usize) -> usize {
    let hi = (le + WINDOW_BYTES).min(data.len());
    let mut pos = le;
    for _ in 0..=WINDOW_LINES {
        if pos >= hi {
            return hi;
        }
        pos = memchr::memchr(b'\n', &data[pos + 1..hi]).map_or(hi, |p| pos + 1 + p);
    }
    (pos + 1).min(data.len())
}

/// The line start `lines` lines after the line start `pos`, not beyond `hi`.
fn advance(data: &[u8], mut pos: usize, lines: usize, hi: usize) -> usize {
    let hi = hi.min(data.len());
    for _ in 0..lines {
        if pos >= hi {
            return hi.max(pos);
        }
        pos = memchr::memchr(b'\n', &data[pos..hi]).map_or(hi, |p| pos + p + 1);
    }
    pos
}

/// Reads every line starting in `from..to` as a row, or as a command that writes rows.
fn read_lines(data: &[u8], from: usize, to: usize, kind: Kind, out: &mut Vec<Candidate>) {
    let mut ls = from;
    while ls < to {
        let le = rules::line_end(data, ls);
        // Every row, bare, echoed or stored under a key, has two commas: most lines have not.
        if memchr::memchr_iter(b',', &data[ls..le]).nth(1).is_none() {
            ls = le + 1;
            continue;
        }
        let (cs, ce) = context::content(data, ls, le);
        match row::credential(data, cs, ce, kind, false) {
            Some(c) => out.push(c),
            None => {
                let mut rows = context::written_rows(data, ls, le);
                if rows.is_empty() {
                    rows = context::value_rows(data, ls, le);
                }
                for (s, e, escaped) in rows {
                    out.extend(row::credential(data, s, e, kind, escaped));
                }
            }
        }
        ls = le + 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str, path: Option<&str>) -> Vec<String> {
        let mut names: Vec<usize> = ["token.csv", "tokens.csv", "token-auth-file"]
            .iter()
            .flat_map(|n| text.match_indices(n).map(|(at, _)| at))
            .collect();
        names.sort_unstable();
        let mut r = Reader::new(text.as_bytes(), path, false);
        for at in names {
            r.token_file(at);
        }
        r.finish().into_iter().map(|c| c.secret).collect()
    }

    const T: &str = "c199a717dc7e12437f0e5c3c358e59ae";

    #[test]
    fn rows_near_a_name_count_and_far_ones_do_not() {
        let near = format!("cat > token.csv <<EOF\n{T},kubelet-bootstrap,10001,\"system:kubelet-bootstrap\"\nEOF\n");
        assert_eq!(found(&near, None), [T]);
        let far = format!(
            "{}see token.csv\n{}{T},kubelet-bootstrap,10001\n",
            "x\n".repeat(0),
            "\n".repeat(20)
        );
        assert!(found(&far, None).is_empty());
        let before = format!(
            "```\n{T},admin,admin,system:masters\n```\nthen pass --token-auth-file=/etc/k/t.csv\n"
        );
        assert_eq!(found(&before, None), [T]);
        // No name anywhere: a CSV row alone is nothing.
        assert!(found(&format!("{T},admin,admin\n"), Some("notes.md")).is_empty());
    }

    #[test]
    fn a_long_heredoc_is_read_to_its_end() {
        let mut text = String::from("cat <<'EOF' | sudo tee /srv/kubernetes/known_tokens.csv\n");
        for i in 0..40 {
            text.push_str(&format!("{T}{i:02},system:node:n{i},uid{i},system:nodes\n"));
        }
        text.push_str("EOF\n");
        text.push_str(&format!("{T}99,late,late\n"));
        assert_eq!(found(&text, None).len(), 40);
    }

    #[test]
    fn whole_files_by_name_and_not_data_tables() {
        let text = format!("sekret,admin,admin\n{T},kubelet,kubelet\n");
        assert_eq!(found(&text, Some("srv/known_tokens.csv")), [T]);
        assert!(found(&text, Some("srv/users.csv")).is_empty());
        let table = format!("mint,symbol,decimals\n{T},USDC,6\n");
        assert!(found(&table, Some("tokens.csv")).is_empty());
    }

    #[test]
    fn basic_auth_names_are_searched_in_scripts_only() {
        let text =
            "echo \"Xk9qPz2mWv,admin,admin,system:masters\" > /srv/kubernetes/basic_auth.csv\n";
        let rows = |path| -> Vec<String> {
            Reader::new(text.as_bytes(), path, false)
                .finish()
                .into_iter()
                .map(|c| c.secret)
                .collect()
        };
        assert_eq!(rows(Some("setup.sh")), ["Xk9qPz2mWv"]);
        assert!(rows(Some("main.go")).is_empty());
        assert!(rows(None).is_empty());
    }
}
