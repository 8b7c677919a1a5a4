//! Runs the detectors' examples (see `rules::detector`): the self-check behind
//! `leakscan rules --check` and the `detectors` test.

use super::Scanner;
use crate::origin::Origin;
use crate::rules::detector::{Example, DETECTORS};

/// An example whose scan did not give what it expects.
#[derive(Debug, Clone)]
pub struct ExampleFailure {
    /// The detector the example belongs to.
    pub detector: &'static str,
    /// The example's index among its detector's examples.
    pub index: usize,
    /// The path it was scanned as.
    pub path: &'static str,
    /// What differed (secrets shown by length and prefix only).
    pub problem: String,
}

/// The first characters of a secret, enough to tell examples apart without printing them.
fn hint(s: &str) -> String {
    let head: String = s.chars().take(12).collect();
    format!("{head}… ({} bytes)", s.len())
}

impl Scanner {
    /// Scans every example of every built-in detector, its markers filled by `fill`, and
    /// returns the examples whose findings differ from what they expect.
    pub fn check_examples(
        &self,
        fill: &mut dyn FnMut(&str) -> String,
    ) -> (usize, Vec<ExampleFailure>) {
        let mut failures = Vec::new();
        let mut total = 0;
        for d in DETECTORS {
            for (index, ex) in d.examples.iter().enumerate() {
                total += 1;
                if let Err(problem) = self.check_example(ex, fill) {
                    failures.push(ExampleFailure {
                        detector: d.name,
                        index,
                        path: ex.path,
                        problem,
                    });
                }
            }
        }
        (total, failures)
    }

    /// Scans one example; `Err` says how its findings differ from what it expects.
    pub fn check_example(
        &self,
        ex: &Example,
        fill: &mut dyn FnMut(&str) -> String,
    ) -> Result<(), String> {
        let r = ex.render(fill);
        let found = self.scan_bytes(r.text.as_bytes(), &Origin::path(ex.path));
        let got: Vec<(String, u64, String)> = found
            .iter()
            .map(|f| {
                (
                    f.rule_id.clone(),
                    f.line as u64,
                    f.secret.expose().to_owned(),
                )
            })
            .collect();
        let want: Vec<(String, u64, String)> = ex
            .expect
            .iter()
            .map(|e| (e.rule.to_owned(), e.line, r.secret(e)))
            .collect();
        if got != want {
            let show = |v: &[(String, u64, String)]| {
                v.iter()
                    .map(|(rule, line, s)| format!("{rule}@{line} {}", hint(s)))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            return Err(format!(
                "expected [{}], found [{}]",
                show(&want),
                show(&got)
            ));
        }
        // Where the secret is written out on its line, the column must point at it.
        for f in &found {
            let Some(line) = r.text.split('\n').nth(f.line.saturating_sub(1)) else {
                continue;
            };
            if let Some(at) = line.find(f.secret.expose()) {
                if f.column != at + 1 {
                    return Err(format!(
                        "{}@{}: column {} but the secret starts at column {}",
                        f.rule_id,
                        f.line,
                        f.column,
                        at + 1
                    ));
                }
            }
        }
        Ok(())
    }
}
