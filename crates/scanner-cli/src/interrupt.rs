//! Ctrl-C, SIGTERM and SIGHUP: the `--output` temporary file (which may hold raw secrets
//! with `--show-secrets`) is removed before the process exits with 130.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Temporary files to remove if the run is interrupted.
static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

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
