//! Which walked entries a file-tree scan leaves out on request, and why: `exclude` globs,
//! hidden entries, ignore files.
//!
//! The `ignore` crate's walker drops what it filters before anyone sees it, so nothing
//! could be counted. Its own filtering is therefore off and [`EntryFilter`] decides, with
//! the crate's semantics (checked against it in tests/walk_filter.rs): `exclude` first,
//! then the ignore files — `.ignore`, `.gitignore`, `.git/info/exclude` (of the worktree's
//! common git dir) and git's global excludes file, deeper directories first; `.gitignore`
//! and `info/exclude` only inside a repository and not above its root (nested repositories
//! have their own), `.ignore` everywhere; the directories above a scan root count too —
//! then hidden names, unless an ignore rule whitelists the entry (`!.env`).
//!
//! Each entry left out is recorded once; a directory left out counts once, since the
//! walk never descends into it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use ignore::gitignore::{Gitignore, GitignoreBuilder};
use ignore::overrides::Override;
use ignore::{DirEntry, Match};

use crate::problem::Problem;

/// One walked entry left out, and why.
#[derive(Debug, Clone)]
pub(crate) struct Skip {
    /// The path as the walk reached it.
    pub path: PathBuf,
    /// `hidden`, `ignored` or `excluded`.
    pub kind: Problem,
    /// What left it out, for people.
    pub why: String,
}

/// Decides which walked entries are scanned and records every one that is not.
pub(crate) struct EntryFilter {
    exclude: Option<Override>,
    skip_hidden: bool,
    rules: Option<Rules>,
    skipped: Mutex<Vec<Skip>>,
}

impl EntryFilter {
    /// A filter for a walk of `roots`; `respect_ignore_files` reads ignore files.
    pub fn new(
        exclude: Option<Override>,
        skip_hidden: bool,
        respect_ignore_files: bool,
        roots: &[&PathBuf],
    ) -> EntryFilter {
        EntryFilter {
            exclude,
            skip_hidden,
            rules: respect_ignore_files.then(|| Rules::new(roots)),
            skipped: Mutex::new(Vec::new()),
        }
    }

    /// Whether `e` (below a root) is walked; if not, it is recorded.
    pub fn keep(&self, e: &DirEntry) -> bool {
        if self.exclude.is_none() && !self.skip_hidden && self.rules.is_none() {
            return true;
        }
        let is_dir = e.file_type().is_some_and(|t| t.is_dir());
        let path = strip_dot_slash(e.path());
        let what = if is_dir { "directory" } else { "file" };
        if let Some(ov) = &self.exclude {
            if ov.matched(path, is_dir).is_ignore() {
                let why = format!("{what} matches an --exclude glob; not scanned");
                return self.skip(e, Problem::Excluded, why);
            }
        }
        let mut whitelisted = false;
        if let Some(rules) = &self.rules {
            match rules.matched(e.path(), is_dir) {
                Verdict::Ignored(why) => {
                    let why = format!("{what} {why}; not scanned (--respect-gitignore)");
                    return self.skip(e, Problem::Ignored, why);
                }
                Verdict::Whitelisted => whitelisted = true,
                Verdict::None => {}
            }
        }
        if self.skip_hidden && !whitelisted && e.file_name().as_encoded_bytes().starts_with(b".") {
            let why = format!("hidden {what}; not scanned (--skip-hidden)");
            return self.skip(e, Problem::Hidden, why);
        }
        true
    }

    fn skip(&self, e: &DirEntry, kind: Problem, why: String) -> bool {
        let s = Skip {
            path: e.path().to_path_buf(),
            kind,
            why,
        };
        self.skipped
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(s);
        false
    }

    /// Every entry left out so far.
    pub fn take_skipped(&self) -> Vec<Skip> {
        std::mem::take(&mut *self.skipped.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

fn strip_dot_slash(p: &Path) -> &Path {
    p.strip_prefix("./").unwrap_or(p)
}

/// What the ignore files say about one path.
enum Verdict {
    /// Ignored, by this rule (for people).
    Ignored(String),
    /// Whitelisted (`!pattern`): scanned even when hidden.
    Whitelisted,
    /// No rule matches.
    None,
}

/// The ignore rules of one directory (walked, or above a scan root).
struct Dir {
    /// `.ignore`.
    ignore: Gitignore,
    /// `.gitignore`.
    git: Gitignore,
    /// `info/exclude` of the repository whose root this is.
    exclude: Gitignore,
    /// A repository root (`.git` or `.jj` here): `.gitignore`s above do not apply below.
    has_git: bool,
    /// This directory or one above it is a repository root.
    any_git: bool,
    /// Above a scan root: matched with absolute paths.
    above_root: bool,
    /// For a scan root: (the root as walked, its canonical path).
    root: Option<(PathBuf, PathBuf)>,
    /// The nearest directory above with rules of its own (directories without any share
    /// their parent's node, as the crate does).
    parent: Option<Arc<Dir>>,
}

impl Dir {
    fn read(dir: &Path, parent: Option<Arc<Dir>>) -> Dir {
        let git_type = dir.join(".git").metadata().ok().map(|m| m.file_type());
        let has_git = git_type.is_some() || dir.join(".jj").exists();
        let exclude = match git_type {
            Some(t) => match common_git_dir(dir, t) {
                Some(g) => load(dir, &g.join("info/exclude")),
                None => Gitignore::empty(),
            },
            None => Gitignore::empty(),
        };
        Dir {
            ignore: load(dir, &dir.join(".ignore")),
            git: load(dir, &dir.join(".gitignore")),
            exclude,
            has_git,
            any_git: has_git || parent.as_ref().is_some_and(|p| p.any_git),
            above_root: false,
            root: None,
            parent,
        }
    }

    fn has_rules(&self) -> bool {
        self.has_git || !self.ignore.is_empty() || !self.git.is_empty() || !self.exclude.is_empty()
    }
}

/// One ignore file's rules, rooted at `dir` (a missing or unreadable file has none: the
/// crate ignores those errors too).
fn load(dir: &Path, file: &Path) -> Gitignore {
    if !file.exists() {
        return Gitignore::empty();
    }
    let mut b = GitignoreBuilder::new(dir);
    let _ = b.add(file);
    b.build().unwrap_or_else(|_| Gitignore::empty())
}

/// The git dir holding `info/exclude`: `.git`, or for a linked worktree (`.git` is a file
/// `gitdir: X`) the common dir named by `X/commondir`.
fn common_git_dir(dir: &Path, git_type: std::fs::FileType) -> Option<PathBuf> {
    let dot_git = dir.join(".git");
    if !git_type.is_file() {
        return Some(dot_git);
    }
    let first_line = |p: &Path| -> Option<String> {
        let s = std::fs::read_to_string(p).ok()?;
        s.lines().next().map(str::to_owned)
    };
    let real = PathBuf::from(first_line(&dot_git)?.strip_prefix("gitdir: ")?);
    let common = first_line(&real.join("commondir"))?;
    Some(if common.starts_with('.') {
        real.join(common)
    } else {
        PathBuf::from(common)
    })
}

/// The ignore rules of every directory walked so far, shared by the walker's threads.
struct Rules {
    /// git's global excludes file (`core.excludesFile`, else `$XDG_CONFIG_HOME/git/ignore`).
    global: Gitignore,
    /// Directory as walked -> its rules (or its nearest ancestor's, when it has none).
    dirs: Mutex<HashMap<PathBuf, Arc<Dir>>>,
}

impl Rules {
    fn new(roots: &[&PathBuf]) -> Rules {
        let cwd = std::env::current_dir().unwrap_or_default();
        let (global, _) = GitignoreBuilder::new(cwd).build_global();
        let mut dirs = HashMap::new();
        for r in roots.iter().filter(|r| r.is_dir()) {
            let abs = r.canonicalize().ok();
            let mut above: Option<Arc<Dir>> = None;
            if let Some(abs) = &abs {
                let mut chain: Vec<&Path> = abs.ancestors().skip(1).collect();
                chain.reverse();
                for a in chain {
                    let mut d = Dir::read(a, above.take());
                    d.above_root = true;
                    above = Some(Arc::new(d));
                }
            }
            let mut d = Dir::read(r, above);
            d.root = abs.map(|a| (strip_dot_slash(r).to_path_buf(), a));
            dirs.entry(r.to_path_buf()).or_insert_with(|| Arc::new(d));
        }
        Rules {
            global,
            dirs: Mutex::new(dirs),
        }
    }

    /// The rules in force in walked directory `dir`.
    fn dir(&self, dir: &Path) -> Option<Arc<Dir>> {
        if let Some(d) = self.lock().get(dir) {
            return Some(d.clone());
        }
        // Not seen yet (its own entry passed the filter on another thread, or just now).
        let parent = self.dir(dir.parent()?)?;
        let d = Dir::read(dir, Some(parent.clone()));
        let d = if d.has_rules() { Arc::new(d) } else { parent };
        Some(self.lock().entry(dir.to_path_buf()).or_insert(d).clone())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<PathBuf, Arc<Dir>>> {
        self.dirs.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether the ignore files ignore (with the rule, for people) or whitelist `path`.
    fn matched(&self, path: &Path, is_dir: bool) -> Verdict {
        let Some(dir) = path.parent().and_then(|p| self.dir(p)) else {
            return Verdict::None;
        };
        let path = strip_dot_slash(path);
        let any_git = dir.any_git;
        let (mut m_ignore, mut m_git, mut m_exclude) = (Match::None, Match::None, Match::None);
        let mut saw_git = false;
        let mut root: Option<&(PathBuf, PathBuf)> = None;
        let mut absolute: Option<PathBuf> = None;
        let mut node = Some(&dir);
        while let Some(d) = node {
            let candidate: &Path = if d.above_root {
                let Some((walked, abs)) = root else { break };
                absolute.get_or_insert_with(|| abs.join(path.strip_prefix(walked).unwrap_or(path)))
            } else {
                path
            };
            if m_ignore.is_none() {
                m_ignore = d.ignore.matched(candidate, is_dir);
            }
            if any_git && !saw_git {
                if m_git.is_none() {
                    m_git = d.git.matched(candidate, is_dir);
                }
                if m_exclude.is_none() {
                    m_exclude = d.exclude.matched(candidate, is_dir);
                }
            }
            saw_git |= d.has_git;
            if d.root.is_some() {
                root = d.root.as_ref();
            }
            node = d.parent.as_ref();
        }
        let m_global = if any_git {
            self.global.matched(path, is_dir)
        } else {
            Match::None
        };
        let m = m_ignore.or(m_git).or(m_exclude).or(m_global);
        match m {
            Match::Ignore(g) => Verdict::Ignored(match g.from() {
                Some(f) => format!(
                    "ignored by `{}` in {}",
                    g.original(),
                    strip_dot_slash(f).display()
                ),
                None => format!("ignored by `{}`", g.original()),
            }),
            Match::Whitelist(_) => Verdict::Whitelisted,
            Match::None => Verdict::None,
        }
    }
}
