//! Ctrl-C, SIGTERM and SIGHUP: the `--output` temporary file (which may hold raw secrets
//! with `--show-secrets`) is removed before the process exits with 130, and so is a
//! temporary clone (its `git clone` stopped first).

use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Temporary files to remove if the run is interrupted.
static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
/// Temporary clones to remove, with the `git` still writing one (its process id).
static CLONES: Mutex<Vec<(PathBuf, Option<u32>)>> = Mutex::new(Vec::new());

/// Exit code of an interrupted run (128 + SIGINT, as shells report it).
pub const EXIT_INTERRUPTED: u8 = 130;

/// Installs the handler once; a failure (another handler set by an embedding program)
/// only costs the cleanup, so it is not fatal.
pub fn install() {
    let _ = ctrlc::set_handler(|| {
        let pending = PENDING.lock().unwrap_or_else(|e| e.into_inner());
        for p in pending.iter() {
            let _ = std::fs::remove_file(p);
        }
        let clones = CLONES.lock().unwrap_or_else(|e| e.into_inner());
        for (dir, git) in clones.iter() {
            if let Some(pid) = git.and_then(|p| libc::pid_t::try_from(p).ok()) {
                // SAFETY: kill(2) with a child's id and SIGTERM has no memory effects.
                unsafe {
                    libc::kill(pid, libc::SIGTERM);
                }
            }
            let _ = std::fs::remove_dir_all(dir);
        }
        eprintln!("leakscan: interrupted; no report written");
        std::process::exit(i32::from(EXIT_INTERRUPTED));
    });
}

/// Removes `path` if the run is interrupted before [`forget`].
pub fn remove_on_interrupt(path: &Path) {
    PENDING
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(path.to_owned());
}

/// `path` was persisted or removed: the handler must leave it alone.
pub fn forget(path: &Path) {
    PENDING
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .retain(|p| p != path);
}

/// Removes the clone in `dir` if the run is interrupted (stopping `git`, process `git`,
/// first) until [`forget_clone`]; called again with `None` once git is done.
pub fn remove_clone_on_interrupt(dir: &Path, git: Option<u32>) {
    let mut clones = CLONES.lock().unwrap_or_else(|e| e.into_inner());
    clones.retain(|(d, _)| d != dir);
    clones.push((dir.to_owned(), git));
}

/// The clone in `dir` was removed: the handler must leave it alone.
pub fn forget_clone(dir: &Path) {
    CLONES
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .retain(|(d, _)| d != dir);
}
