//! Where a blob of bytes came from; sources build these, findings copy them.

use std::collections::BTreeMap;

use crate::finding::GitInfo;

/// The provenance of one blob handed to the scanner.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    /// Display path, relative to the scan root, `/`-separated; archive members as
    /// `ARCHIVE!/MEMBER`.
    pub path: String,
    /// Commit provenance for history scans.
    pub git: Option<GitInfo>,
    /// Extra context copied into each finding (e.g. Slack `channel`, `date`, `user`).
    pub context: BTreeMap<String, String>,
}

impl Origin {
    /// An origin with just a path.
    pub fn path(path: impl Into<String>) -> Self {
        Origin {
            path: path.into(),
            ..Origin::default()
        }
    }

    /// The label used for an archive member: `ARCHIVE!/MEMBER`.
    pub fn member(&self, member: &str) -> Origin {
        Origin {
            path: format!("{}!/{}", self.path, member),
            git: self.git.clone(),
            context: self.context.clone(),
        }
    }
}
