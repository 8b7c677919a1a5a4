//! A progress line on stderr for scans that take more than about a second: files, bytes,
//! MB/s, findings. Only on a terminal, never with `--quiet` or `--no-progress`.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::args::CommonArgs;

/// How long a scan runs before the bar appears (short scans print nothing extra).
const DELAY: Duration = Duration::from_secs(1);
const TICK: Duration = Duration::from_millis(150);

/// Counters the scan updates and the drawing thread reads.
#[derive(Default)]
struct Shared {
    files: AtomicU64,
    bytes: AtomicU64,
    /// Bytes scanned so far of big inputs not yet complete, by path.
    partial: Mutex<HashMap<String, u64>>,
    partial_total: AtomicU64,
    findings: AtomicU64,
    done: Mutex<bool>,
    wake: Condvar,
}

/// A running progress display (or a no-op one).
pub struct Progress {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl Progress {
    /// Starts the display thread when stderr is a terminal and the options allow it.
    pub fn start(common: &CommonArgs) -> Progress {
        let shared = Arc::new(Shared::default());
        let wanted = !common.quiet && !common.no_progress && std::io::stderr().is_terminal();
        let thread = wanted.then(|| {
            let s = Arc::clone(&shared);
            std::thread::spawn(move || draw(&s))
        });
        Progress { shared, thread }
    }

    /// One input scanned.
    pub fn scanned(&self, path: &str, bytes: u64) {
        if self.thread.is_some() {
            let mut partial = self
                .shared
                .partial
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            if let Some(done) = partial.remove(path) {
                self.shared.partial_total.fetch_sub(done, Ordering::Relaxed);
            }
        }
        self.shared.files.fetch_add(1, Ordering::Relaxed);
        self.shared.bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    /// Part of a big input scanned.
    pub fn partial(&self, path: &str, bytes: u64) {
        if self.thread.is_none() {
            return;
        }
        let mut partial = self
            .shared
            .partial
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        *partial.entry(path.to_owned()).or_default() += bytes;
        self.shared
            .partial_total
            .fetch_add(bytes, Ordering::Relaxed);
    }

    /// One finding made.
    pub fn finding(&self) {
        self.shared.findings.fetch_add(1, Ordering::Relaxed);
    }

    /// Clears the bar (before the report and summary are printed).
    pub fn finish(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        if let Ok(mut done) = self.shared.done.lock() {
            *done = true;
        }
        self.shared.wake.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Waits `d` or until the scan is done; true when it is done.
fn wait(s: &Shared, d: Duration) -> bool {
    let Ok(done) = s.done.lock() else {
        return true;
    };
    match s.wake.wait_timeout_while(done, d, |done| !*done) {
        Ok((done, _)) => *done,
        Err(_) => true,
    }
}

fn draw(s: &Shared) {
    let started = Instant::now();
    if wait(s, DELAY) {
        return;
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template("{spinner} {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner());
    bar.set_style(style);
    loop {
        let bytes = s.bytes.load(Ordering::Relaxed) + s.partial_total.load(Ordering::Relaxed);
        let secs = started.elapsed().as_secs_f64().max(1e-3);
        bar.set_message(format!(
            "scanning: {} files, {:.1} MB, {:.0} MB/s, {} findings",
            s.files.load(Ordering::Relaxed),
            bytes as f64 / 1e6,
            bytes as f64 / 1e6 / secs,
            s.findings.load(Ordering::Relaxed),
        ));
        bar.tick();
        if wait(s, TICK) {
            break;
        }
    }
    bar.finish_and_clear();
}
