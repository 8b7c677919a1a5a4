//! Receivers of findings as they are made (ripgrep's `Sink` idea).

use crate::finding::Finding;

/// Receives findings as the scanner makes them.
pub trait Sink {
    /// Called once per finding, in input order within one blob.
    fn finding(&mut self, finding: Finding);

    /// Part of the input was not scanned completely (`kind` is machine-readable, e.g.
    /// `decode-budget`); the scan of the rest went on. Ignored unless a sink cares.
    fn incomplete(&mut self, _kind: &str, _message: &str) {}
}

impl Sink for Vec<Finding> {
    fn finding(&mut self, finding: Finding) {
        self.push(finding);
    }
}

/// Adapts a closure into a [`Sink`].
pub struct FnSink<F: FnMut(Finding)>(pub F);

impl<F: FnMut(Finding)> Sink for FnSink<F> {
    fn finding(&mut self, finding: Finding) {
        (self.0)(finding)
    }
}
