//! Sources turn inputs (file trees, archives, Slack exports, git history) into bytes with an
//! [`Origin`](crate::Origin) for the scanner. They never detect anything themselves.

pub mod archive;
mod content;
mod encoding;
pub mod fs;
pub mod git;
mod image;
mod magic;
mod map_guard;
mod mapped;
mod slack;
mod walk_filter;

/// What a source reports back while it runs; implemented by the CLI (and by library users).
///
/// Must be `Sync`: sources call it from worker threads.
pub trait Events: Sync {
    /// A finding, as soon as it is made.
    fn finding(&self, finding: crate::Finding);
    /// An input that could not be (fully) scanned: unreadable, corrupt, too large, a
    /// hostile archive member; [`Problem::class`](crate::Problem::class) says whether it
    /// leaves the scan incomplete.
    fn error(&self, path: &str, kind: crate::Problem, message: &str);
    /// One input scanned completely (`bytes` long); drives progress and stats.
    fn scanned(&self, path: &str, bytes: u64);
    /// `bytes` more of a big input scanned before it is complete (its `scanned` follows
    /// with the full length); lets a progress display move during one huge file.
    fn progress(&self, _path: &str, _bytes: u64) {}
    /// `n` findings of the input just scanned were dropped because the user allowed them.
    fn suppressed(&self, _n: u64) {}
}
