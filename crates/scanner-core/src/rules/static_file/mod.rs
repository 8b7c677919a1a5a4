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

/// Which static file a row belongs to, which decides its rule and what counts as a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `--token-auth-file`: the first column is a bearer token.
    Token,
    /// `--basic-auth-file`: the first column is a password.
    Password,
}

/// Lines before and after a file's name that may hold its rows (a Markdown code block next
/// to the flag, a heredoc body).
const WINDOW_LINES: usize = 12;
/// Bytes the window spans at most either way, whatever the lines' length.
const WINDOW_BYTES: usize = 4096;
/// Lines of a heredoc that writes a static file read as its rows.
const MAX_HEREDOC_LINES: usize = 1000;
/// File names remembered per buffer; a buffer naming more is no script.
const MAX_MENTIONS: usize = 65_536;

/// A place that names a static file: `at..end` is the name.
#[derive(Debug, Clone, Copy)]
struct Mention {
    at: usize,
    end: usize,
    kind: Kind,
}

/// The static file names one buffer's prefilter hits found, and what rows they vouch for.
#[derive(Debug, Default)]
pub(crate) struct Mentions {
    list: Vec<Mention>,
}

impl Mentions {
    /// Records a token file's name (`token.csv`, `--token-auth-file`) at `at..end`.
    pub(crate) fn token_file(&mut self, at: usize, end: usize) {
        if self.list.len() < MAX_MENTIONS {
            self.list.push(Mention {
                at,
                end,
                kind: Kind::Token,
            });
        }
    }

    /// The credentials in `data`'s static-file rows. `path` is the input's path when `data`
    /// is the input itself (not text decoded from it); `open_start`: `data` may begin in
    /// the middle of the input.
    pub(crate) fn rows(self, data: &[u8], path: Option<&str>, open_start: bool) -> Vec<Candidate> {
        let mut out = Vec::new();
        if let Some(kind) = path.and_then(context::path_kind) {
            if open_start || !context::is_data_table(data) {
                read_lines(data, 0, data.len(), kind, &mut out);
            }
            return out;
        }
        let mut mentions = self.list;
        if path.is_some_and(|p| context::may_name_basic_auth(p, data.len())) {
            mentions.extend(
                context::basic_auth_names(data)
                    .into_iter()
                    .map(|(at, end)| Mention {
                        at,
                        end,
                        kind: Kind::Password,
                    }),
            );
            mentions.sort_by_key(|m| m.at);
        }
        // Lines starting before `done` were read for an earlier name: each line once.
        let mut done = 0;
        for m in mentions {
            let (ls, le) = context::line_at(data, m.at);
            for (s, e, escaped) in context::keyed_rows(data, m.end, le) {
                out.extend(row::credential(data, s, e, m.kind, escaped));
            }
            let from = lines_back(data, ls).max(done);
            let mut to = lines_forward(data, le);
            if let Some(h) = context::heredoc_end(data, ls, le, MAX_HEREDOC_LINES) {
                to = to.max(h);
            }
            if from < to {
                read_lines(data, from, to, m.kind, &mut out);
            }
            done = done.max(to);
        }
        out
    }
}

/// Start of the line [`WINDOW_LINES`] lines before the one starting at `ls`, within
/// [`WINDOW_BYTES`]; a line cut by the byte limit is left out.
fn lines_back(data: &[u8], ls: usize) -> usize {
    let lo = ls.saturating_sub(WINDOW_BYTES);
    let mut pos = ls;
    for _ in 0..WINDOW_LINES {
        if pos <= lo || pos == 0 {
            break;
        }
        match memchr::memrchr(b'\n', &data[lo..pos - 1]) {
            Some(p) => pos = lo + p + 1,
            None if lo == 0 => pos = 0,
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

/// Reads every line starting in `from..to` as a row, or as a command that writes rows.
fn read_lines(data: &[u8], from: usize, to: usize, kind: Kind, out: &mut Vec<Candidate>) {
    let mut ls = from;
    while ls < to {
        let le = memchr::memchr(b'\n', &data[ls..]).map_or(data.len(), |p| ls + p);
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
        let mut m = Mentions::default();
        for (at, name) in text
            .match_indices("token.csv")
            .chain(text.match_indices("tokens.csv"))
            .chain(text.match_indices("token-auth-file"))
        {
            m.token_file(at, at + name.len());
        }
        m.rows(text.as_bytes(), path, false)
            .into_iter()
            .map(|c| c.secret)
            .collect()
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
        let m = Mentions::default();
        let got: Vec<String> = m
            .rows(text.as_bytes(), Some("setup.sh"), false)
            .into_iter()
            .map(|c| c.secret)
            .collect();
        assert_eq!(got, ["Xk9qPz2mWv"]);
        assert!(Mentions::default()
            .rows(text.as_bytes(), Some("main.go"), false)
            .is_empty());
        assert!(Mentions::default()
            .rows(text.as_bytes(), None, false)
            .is_empty());
    }
}
