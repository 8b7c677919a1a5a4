//! Receivers of findings as they are made (ripgrep's `Sink` idea).

use crate::finding::Finding;
use crate::problem::Problem;

/// Receives findings as the scanner makes them.
pub trait Sink {
    /// Called once per finding, in input order within one blob.
    fn finding(&mut self, finding: Finding);

    /// Part of the input was not scanned completely (e.g. [`Problem::DecodeBudget`]); the
    /// scan of the rest went on. Ignored unless a sink cares.
    fn incomplete(&mut self, _kind: Problem, _message: &str) {}

    /// A finding the user allowed (inline `leakscan:allow`, a configuration allowlist) was
    /// dropped: counted by whoever reports the run, so each scan counts its own.
    fn suppressed(&mut self) {}
}

/// Collects findings and the problems reported beside them.
#[derive(Debug, Default)]
pub struct Collected {
    /// Findings, in the order they were made.
    pub findings: Vec<Finding>,
    /// Parts of the input not scanned completely, with a message each.
    pub problems: Vec<(Problem, String)>,
    /// Findings dropped because the user allowed them.
    pub suppressed: u64,
}

impl Sink for Collected {
    fn finding(&mut self, finding: Finding) {
        self.findings.push(finding);
    }
    fn incomplete(&mut self, kind: Problem, message: &str) {
        self.problems.push((kind, message.to_owned()));
    }
    fn suppressed(&mut self) {
        self.suppressed += 1;
    }
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
