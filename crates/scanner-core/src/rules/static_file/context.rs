//! Where rows of a static credential file are written down: files named like one, lines
//! that write one (a heredoc, `echo … > token.csv`, `… | tee`, a here-string), a value
//! stored under a key named like one (`token.csv: |` in a ConfigMap, `"token.csv": "…"`),
//! and mentions of the kube-apiserver flags that read one.

use super::Kind;

/// Inputs larger than this are data (logs, dumps), not scripts or documents that write a
/// basic-auth file; they are spared the extra search for its name.
const MAX_TEXT: usize = 1024 * 1024;

/// Extensions of scripts, documents and configuration, where a basic-auth file is written
/// or described (besides names without an extension: `Dockerfile`, `kube-up`).
const TEXT_EXTENSIONS: &[&str] = &[
    "md", "markdown", "mdx", "rst", "adoc", "txt", "org", "sh", "bash", "zsh", "ps1", "yaml",
    "yml", "json", "j2", "jinja", "jinja2", "tpl", "tmpl", "tf", "hcl", "service", "conf", "cfg",
    "ini", "env", "sls", "pp", "erb", "html",
];

/// Bytes of a heredoc read as a static file's rows at most.
const MAX_HEREDOC: usize = 64 * 1024;

/// Suffixes of templates whose rendering is the file (`token.csv.j2` is a token file).
const TEMPLATE_SUFFIXES: &[&str] = &[".j2", ".jinja", ".jinja2", ".tpl", ".tmpl", ".erb"];

/// The file name (last path component, lowercase) without template suffixes.
fn file_name(path: &str) -> String {
    let mut name = path
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    while let Some(t) = TEMPLATE_SUFFIXES.iter().find(|t| name.ends_with(*t)) {
        name.truncate(name.len() - t.len());
    }
    name
}

/// What an input's file name says it is: a token file (`known_tokens.csv`, `token.csv`,
/// `static-token`), a basic-auth file (`basic_auth.csv`), or neither.
pub(super) fn path_kind(path: &str) -> Option<Kind> {
    let name = file_name(path);
    let (stem, ext) = name.rsplit_once('.').unwrap_or((&name, ""));
    let basic = ["basic_auth", "basic-auth", "basicauth"]
        .iter()
        .any(|b| stem.contains(b));
    match ext {
        "csv" if basic => Some(Kind::Password),
        "csv" if stem.contains("token") => Some(Kind::Token),
        // Without the `.csv` only the names kube-apiserver setups use: a file called
        // `token` usually holds one bare token, which is no row anyway.
        "" | "txt" => match stem {
            "token" | "tokens" | "static-token" | "static_token" | "static-tokens"
            | "static_tokens" | "known_tokens" | "known-tokens" | "token-auth-file"
            | "token_auth_file" | "token-auth" | "token_auth" => Some(Kind::Token),
            "basic_auth" | "basic-auth" | "basicauth" | "basic-auth-file" | "basic_auth_file" => {
                Some(Kind::Password)
            }
            _ => None,
        },
        _ => None,
    }
}

/// Whether an input is a script, document or configuration small enough to be searched
/// for basic-auth file names (which no prefilter keyword covers).
pub(super) fn may_name_basic_auth(path: &str, len: usize) -> bool {
    if len > MAX_TEXT {
        return false;
    }
    let name = file_name(path);
    match name.rsplit_once('.') {
        None => true,
        Some((_, ext)) => TEXT_EXTENSIONS.contains(&ext),
    }
}

/// Offsets of the basic-auth file names in `data` (`basic_auth.csv`, `basic-auth.csv`,
/// `--basic-auth-file`, `basic_auth_file`).
pub(super) fn basic_auth_names(data: &[u8]) -> Vec<usize> {
    memchr::memmem::find_iter(data, b"auth")
        .filter_map(|i| {
            let before = data[..i]
                .strip_suffix(b"_")
                .or(data[..i].strip_suffix(b"-"))?;
            if !before.ends_with(b"basic") {
                return None;
            }
            let after = &data[i + 4..];
            let named = after.starts_with(b".csv")
                || ((after.starts_with(b"-") || after.starts_with(b"_"))
                    && after[1..].starts_with(b"file"));
            named.then(|| before.len() - 5)
        })
        .collect()
}

/// Whether the input starts with the header of a data table (`full_name,abbr_name,…`,
/// `Lexeme,Token_Type`): a `tokens.csv` of some other program. kube-apiserver's files have
/// no header; the documentation's `token,user,uid` line is a row (and a stand-in).
pub(super) fn is_data_table(data: &[u8]) -> bool {
    let Some(line) = data
        .split(|&b| b == b'\n')
        .map(|l| l.trim_ascii())
        .find(|l| !l.is_empty())
    else {
        return false;
    };
    let cols: Vec<&[u8]> = line.split(|&b| b == b',').collect();
    let word = |c: &[u8]| {
        !c.is_empty()
            && c.iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b' ' | b'-'))
    };
    let first = String::from_utf8_lossy(cols[0]).to_ascii_lowercase();
    let distinct = cols
        .iter()
        .enumerate()
        .all(|(i, a)| cols[..i].iter().all(|b| !a.eq_ignore_ascii_case(b)));
    cols.len() >= 2
        && cols.iter().all(|c| word(c))
        && distinct
        && first != "token"
        && first != "password"
        && !crate::rules::placeholder::looks_generated(&first)
        // `changeme,admin,uid` is a (stand-in) row, not a header.
        && !super::row::is_dummy_word(&first)
}

/// A line's content without indentation, Markdown blockquote markers and a trailing `\r`:
/// a row of a heredoc, a YAML block scalar or a quoted document.
pub(super) fn content(data: &[u8], start: usize, end: usize) -> (usize, usize) {
    let mut s = start;
    while s < end && matches!(data[s], b' ' | b'\t' | b'>') {
        s += 1;
    }
    let mut e = end;
    while e > s && matches!(data[e - 1], b'\r' | b' ' | b'\t') {
        e -= 1;
    }
    (s, e)
}

/// Where the heredoc opened on line `start..end` (`cat > token.csv <<EOF`, `cat <<-'EOF' |
/// sudo tee …`) ends: the start of its delimiter line, at most `max_lines` lines on. `None`
/// when the line opens none.
pub(super) fn heredoc_end(
    data: &[u8],
    start: usize,
    end: usize,
    max_lines: usize,
) -> Option<usize> {
    let line = &data[start..end];
    // `<<` but not a here-string's `<<<`.
    let at = memchr::memchr_iter(b'<', line).find(|&i| {
        line.get(i + 1) == Some(&b'<')
            && line.get(i + 2) != Some(&b'<')
            && (i == 0 || line[i - 1] != b'<')
    })?;
    let mut i = at + 2;
    while i < line.len() && matches!(line[i], b'-' | b' ' | b'\'' | b'"' | b'\\') {
        i += 1;
    }
    let word_end = i + line[i..]
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
        .count();
    let delim = &line[i..word_end];
    if delim.is_empty() {
        return None;
    }
    let mut pos = end;
    for _ in 0..max_lines {
        if pos >= data.len() || pos - end > MAX_HEREDOC {
            return Some(pos.min(data.len()));
        }
        let ls = pos + 1;
        let le = crate::rules::line_end(data, ls);
        let (cs, ce) = content(data, ls, le);
        if &data[cs..ce] == delim {
            return Some(ls);
        }
        pos = le;
    }
    Some(pos)
}

/// Rows that line `start..end` writes with `echo`, `printf` or a here-string (`<<<`) into a
/// file (a `>` redirect or `tee`): `(start, end, escaped)` of each, `escaped` when the row
/// sat in double quotes (its own quotes then written `\"`). A `\n` inside splits rows.
pub(super) fn written_rows(data: &[u8], start: usize, end: usize) -> Vec<(usize, usize, bool)> {
    let line = &data[start..end];
    if find(line, b"echo ").is_none()
        && find(line, b"printf ").is_none()
        && find(line, b"<<<").is_none()
    {
        return Vec::new();
    }
    let redirect = memchr::memrchr(b'>', line)
        .into_iter()
        .chain(rfind(line, b"tee "))
        .max();
    let Some(redirect) = redirect else {
        return Vec::new();
    };
    let arg = if let Some(h) = find(line, b"<<<") {
        Some(h + 3)
    } else {
        let head = &line[..redirect];
        let cmd = [&b"echo "[..], b"printf "]
            .iter()
            .filter_map(|c| rfind(head, c).map(|p| p + c.len()))
            .max();
        cmd.map(|c| {
            // Skip echo's options (`-e`, `-n`, `-ne`).
            let mut i = c;
            while line[i..].starts_with(b"-") {
                i += line[i..]
                    .iter()
                    .take_while(|b| !b.is_ascii_whitespace())
                    .count();
                i += line[i..].iter().take_while(|b| **b == b' ').count();
            }
            i
        })
    };
    let Some(mut i) = arg else {
        return Vec::new();
    };
    i += line[i..].iter().take_while(|b| **b == b' ').count();
    let Some((mut s, mut e, mut escaped)) = argument(line, i) else {
        return Vec::new();
    };
    // `printf '%s\n' "ROW"`: the row is the argument after the format.
    if find(&line[s..e], b"%s").is_some() {
        let next = e
            + 1
            + line[(e + 1).min(line.len())..]
                .iter()
                .take_while(|b| **b == b' ')
                .count();
        match argument(line, next.min(line.len())) {
            Some(a) => (s, e, escaped) = a,
            None => return Vec::new(),
        }
    }
    let mut out = Vec::new();
    while s <= e {
        let piece = find(&line[s..e], b"\\n").map_or(e, |p| s + p);
        out.push((start + s, start + piece, escaped));
        s = piece + 2;
    }
    out
}

/// First `needle` in `hay`. Lines are short and each is searched once, so a plain scan
/// beats building a `memmem` searcher per call (which was most of the time spent on a file
/// of `token.csv` lines).
pub(super) fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memchr_iter(needle[0], hay).find(|&i| hay[i..].starts_with(needle))
}

/// Last `needle` in `hay`, as [`find`].
fn rfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memrchr_iter(needle[0], hay).find(|&i| hay[i..].starts_with(needle))
}

/// The shell word at `line[i..]`: its content's bounds and whether it was double-quoted.
fn argument(line: &[u8], i: usize) -> Option<(usize, usize, bool)> {
    match line.get(i)? {
        q @ (b'"' | b'\'') => {
            let mut j = i + 1;
            while j < line.len() && !(line[j] == *q && (*q == b'\'' || line[j - 1] != b'\\')) {
                j += 1;
            }
            (j < line.len()).then_some((i + 1, j, *q == b'"'))
        }
        _ => {
            let e = i + line[i..]
                .iter()
                .take_while(|b| !b.is_ascii_whitespace() && !matches!(b, b'>' | b'|'))
                .count();
            (e > i).then_some((i, e, false))
        }
    }
}

/// The value stored under a key that ends at `name_end` (`token.csv: ROW`, `"token.csv":
/// "ROW\nROW"`): rows as in [`written_rows`]. Block scalars (`token.csv: |`) are read as
/// the following lines, not here.
pub(super) fn keyed_rows(
    data: &[u8],
    name_end: usize,
    line_end: usize,
) -> Vec<(usize, usize, bool)> {
    let mut i = name_end;
    if data.get(i) == Some(&b'"') {
        i += 1;
    }
    if data.get(i) != Some(&b':') || i >= line_end {
        return Vec::new();
    }
    i += 1;
    while i < line_end && data[i] == b' ' {
        i += 1;
    }
    let line = &data[..line_end];
    let Some((mut s, e, escaped)) = argument(line, i) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    while s <= e {
        let piece = find(&data[s..e], b"\\n").map_or(e, |p| s + p);
        out.push((s, piece, escaped));
        s = piece + 2;
    }
    out
}

/// Rows stored as the value of a YAML or JSON key on line `start..end` (`content:
/// "ROW\n"` in an Ansible `copy` task, `"token.csv": "ROW"`): the key is a word, after
/// indentation, `- ` or a quote.
pub(super) fn value_rows(data: &[u8], start: usize, end: usize) -> Vec<(usize, usize, bool)> {
    if memchr::memchr(b':', &data[start..end]).is_none() {
        return Vec::new();
    }
    let (mut k, _) = content(data, start, end);
    if data[k..end].starts_with(b"- ") {
        k += 2;
    }
    if data.get(k) == Some(&b'"') {
        k += 1;
    }
    let key_len = data[k..end]
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        .count();
    if key_len == 0 {
        return Vec::new();
    }
    keyed_rows(data, k + key_len, end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_say_what_a_file_is() {
        for (path, kind) in [
            ("srv/kubernetes/known_tokens.csv", Some(Kind::Token)),
            ("token.csv", Some(Kind::Token)),
            ("roles/master/templates/token.csv.j2", Some(Kind::Token)),
            ("auth/static-token", Some(Kind::Token)),
            ("basic_auth.csv", Some(Kind::Password)),
            ("a.tar.gz!/etc/basic-auth.csv", Some(Kind::Password)),
            ("token.sh", None),
            ("tokens.json", None),
            ("users.csv", None),
            ("tokenizer", None),
        ] {
            assert_eq!(path_kind(path), kind, "{path}");
        }
    }

    #[test]
    fn basic_auth_names_are_found_and_other_basic_auth_is_not() {
        let text =
            b"--basic-auth-file=/srv/basic_auth.csv\nsecret generic basic-auth --from-file=auth\n";
        let names: Vec<&[u8]> = basic_auth_names(text)
            .into_iter()
            .map(|s| &text[s..s + 14])
            .collect();
        assert_eq!(names, [&b"basic-auth-fil"[..], b"basic_auth.csv"]);
    }

    #[test]
    fn data_tables_have_headers() {
        assert!(is_data_table(
            b"full_name,abbr_name,erc20_contract\nEOS,EOS,0x86\n"
        ));
        assert!(is_data_table(b"Lexeme,Token_Type\ninclude,IDENTIFIER\n"));
        assert!(!is_data_table(
            b"sekret,admin,admin\nvdoKpVc6F9D7u7x71Iwst1csh5F6j5Cx,k,k\n"
        ));
        assert!(!is_data_table(b"password,user,uid,\"group1,group2\"\n"));
        assert!(!is_data_table(
            b"0vaWG94GwzwJrfwy7ldvqGM8H8lE,developer,developerid\n"
        ));
    }

    #[test]
    fn heredocs_end_at_their_delimiter() {
        let text = b"cat > token.csv <<-'EOF'\nrow1\n\trow2\n\tEOF\nmv token.csv /x\n";
        let end = heredoc_end(text, 0, 24, 100).unwrap();
        assert_eq!(&text[end..end + 4], b"\tEOF");
        assert!(heredoc_end(b"cat token.csv", 0, 13, 100).is_none());
        assert!(heredoc_end(b"tee t.csv <<< \"a,b,c\"", 0, 21, 100).is_none());
    }

    fn written(line: &str) -> Vec<&str> {
        written_rows(line.as_bytes(), 0, line.len())
            .into_iter()
            .map(|(s, e, _)| &line[s..e])
            .collect()
    }

    #[test]
    fn echo_printf_and_here_strings_write_rows() {
        assert_eq!(
            written("echo \"ab12,admin,admin,\\\"system:masters\\\"\" >> /srv/known_tokens.csv"),
            ["ab12,admin,admin,\\\"system:masters\\\""]
        );
        assert_eq!(
            written("echo -e 'a,b,c\\nd,e,f' | sudo tee token.csv"),
            ["a,b,c", "d,e,f"]
        );
        assert_eq!(written("printf '%s\\n' \"a,b,c\" > token.csv"), ["a,b,c"]);
        assert_eq!(written("tee token.csv <<< 'a,b,c'"), ["a,b,c"]);
        assert_eq!(written("echo a,b,c>token.csv"), ["a,b,c"]);
        assert!(written("cat token.csv").is_empty());
        assert!(written("echo \"unterminated > token.csv").is_empty());
    }

    #[test]
    fn keyed_values_hold_rows() {
        let text = br#""token.csv": "a,b,c\nd,e,\"g\"", "x": 1"#;
        let rows: Vec<&[u8]> = keyed_rows(text, 10, text.len())
            .into_iter()
            .map(|(s, e, _)| &text[s..e])
            .collect();
        assert_eq!(rows, [&b"a,b,c"[..], br#"d,e,\"g\""#]);
        assert!(keyed_rows(b"token.csv mentioned", 9, 19).is_empty());
        let task = b"      content: \"a,b,c\\n\"\n";
        let rows: Vec<&[u8]> = value_rows(task, 0, task.len() - 1)
            .into_iter()
            .map(|(s, e, _)| &task[s..e])
            .collect();
        assert_eq!(rows, [&b"a,b,c"[..], b""]);
    }
}
