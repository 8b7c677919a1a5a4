//! Git object reading: the input replaces the loose object file of a blob that a real
//! repository's only commit holds, then history and staged scans run. A damaged object
//! must be reported, never hang (run with -timeout) or crash.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use scanner_core::source::git::{scan_history, scan_staged, HistoryOptions};
use scanner_core::Scanner;
use std::path::PathBuf;
use std::sync::OnceLock;

struct Fixture {
    _dir: tempfile::TempDir,
    repo: PathBuf,
    /// The loose file of the blob whose content the input replaces.
    object: PathBuf,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir_in("/dev/shm").or_else(|_| tempfile::tempdir()).unwrap();
    let repo = dir.path().join("r");
    let r = git2::Repository::init(&repo).unwrap();
    std::fs::write(repo.join("a.env"), "KUBE_TOKEN=x\n").unwrap();
    let mut index = r.index().unwrap();
    index.add_path(std::path::Path::new("a.env")).unwrap();
    index.write().unwrap();
    let tree = r.find_tree(index.write_tree().unwrap()).unwrap();
    let sig = git2::Signature::new("Fuzz", "fuzz@example.com", &git2::Time::new(1_700_000_000, 0)).unwrap();
    r.commit(Some("HEAD"), &sig, &sig, "c", &tree, &[]).unwrap();
    let blob = tree.get_name("a.env").unwrap().id().to_string();
    let object = repo.join(".git/objects").join(&blob[..2]).join(&blob[2..]);
    Fixture { _dir: dir, repo, object }
}

fuzz_target!(|data: &[u8]| {
    static SCANNER: OnceLock<Scanner> = OnceLock::new();
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    let s = SCANNER.get_or_init(Scanner::new);
    let fx = FIXTURE.get_or_init(fixture);
    // Loose objects are written read-only; replace the file rather than writing into it.
    let _ = std::fs::remove_file(&fx.object);
    std::fs::write(&fx.object, data).unwrap();
    let opts = HistoryOptions {
        threads: 1,
        ..HistoryOptions::default()
    };
    let _ = scan_history(&fx.repo, s, &opts, &common::Checked);
    let _ = scan_staged(&fx.repo, s, &common::Checked);
});
