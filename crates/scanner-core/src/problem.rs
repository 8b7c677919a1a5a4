//! What went wrong with one input, and whether it leaves the scan incomplete.
//!
//! A responder must be able to trust an empty report, so every input that was not read
//! whole is reported with one of these kinds, and each kind says whether it was left out
//! on purpose ([`Class::Skipped`]) or could not be read ([`Class::Incomplete`]).

use std::fmt;

use serde::Serialize;

/// Whether a problem leaves the scan incomplete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Class {
    /// Left out on purpose and by design: images, audio and video, links not followed,
    /// special files met in a tree. The report is still complete for what a user asked to scan.
    Skipped,
    /// Asked to be read and could not be, or only in part: a token may be hiding there.
    Incomplete,
    /// Nothing was lost; the input or the request deserves a remark (an empty range).
    Note,
}

macro_rules! problems {
    ($($(#[$doc:meta])* $variant:ident = $name:literal, $class:ident;)*) => {
        /// The machine-readable kind of a problem with one input (`kind` in JSON, SARIF
        /// notifications and warnings).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum Problem {
            $($(#[$doc])* $variant,)*
        }

        impl Problem {
            /// Every kind, in declaration order.
            pub const ALL: &'static [Problem] = &[$(Problem::$variant,)*];

            /// The kebab-case name used in every output, e.g. `zip-bomb`.
            pub fn as_str(self) -> &'static str {
                match self { $(Problem::$variant => $name,)* }
            }

            /// Whether this kind leaves the scan incomplete.
            pub fn class(self) -> Class {
                match self { $(Problem::$variant => Class::$class,)* }
            }
        }
    };
}

problems! {
    /// A symbolic link in a tree, not followed.
    Symlink = "symlink", Skipped;
    /// A symbolic link whose target does not exist.
    BrokenSymlink = "broken-symlink", Skipped;
    /// A symbolic link loop in a tree (its target is scanned under another name or not at all).
    SymlinkLoop = "symlink-loop", Skipped;
    /// A FIFO met while walking a tree (opening it could block forever).
    Fifo = "fifo", Skipped;
    /// A device node met while walking a tree.
    Device = "device", Skipped;
    /// A socket met while walking a tree.
    Socket = "socket", Skipped;
    /// A configured rule that could not be used.
    RuleSkipped = "rule-skipped", Note;
    /// A repository without commits.
    EmptyRepository = "empty-repository", Note;
    /// A `--range` that selects no commits.
    EmptyRange = "empty-range", Note;
    /// Bytes after the last gzip member that are not another member.
    TrailingGarbage = "trailing-garbage", Note;
    /// Larger than the size limit.
    TooLarge = "too-large", Incomplete;
    /// An archive nested deeper than the depth limit.
    ArchiveDepth = "archive-depth", Incomplete;
    /// An encrypted archive member.
    Encrypted = "encrypted", Incomplete;
    /// An archive member that decompresses past the ratio or size limit.
    ZipBomb = "zip-bomb", Incomplete;
    /// An archive with more members than the member limit; the rest were not read.
    TooManyMembers = "too-many-members", Incomplete;
    /// Data compressed with a method leakscan cannot read: an archive member's, or a whole
    /// xz, bzip2, zstd, lz4, lzip, 7z or rar input.
    UnsupportedCompression = "unsupported-compression", Incomplete;
    /// An archive that is not readable (or stops early).
    CorruptArchive = "corrupt-archive", Incomplete;
    /// A file that got shorter while it was scanned.
    Truncated = "truncated", Incomplete;
    /// A FIFO named as an argument that no process writes to.
    FifoNoWriter = "fifo-no-writer", Incomplete;
    /// Permission denied.
    PermissionDenied = "permission-denied", Incomplete;
    /// A file that vanished before it could be read.
    NotFound = "not-found", Incomplete;
    /// Any other read error.
    ReadError = "read-error", Incomplete;
    /// A directory that could not be walked.
    WalkError = "walk-error", Incomplete;
    /// A git object that is referenced but absent (partial clone, broken repository).
    MissingObject = "missing-object", Incomplete;
    /// A git object that is present but cannot be read.
    CorruptObject = "corrupt-object", Incomplete;
    /// A shallow clone: history before the boundary is absent.
    ShallowClone = "shallow-clone", Incomplete;
    /// A git submodule: its commits live in another repository and are not scanned.
    Submodule = "submodule", Incomplete;
    /// A whole repository of a several-repository run that could not be scanned (not a
    /// repository, unreadable, a bad revision); the others were.
    RepositoryError = "repository-error", Incomplete;
    /// Decoded layers cut short by the decoding budget.
    DecodeBudget = "decode-budget", Incomplete;
    /// A hidden file or directory (name starting with `.`) left out by `--skip-hidden`; a
    /// directory counts once.
    Hidden = "hidden", Skipped;
    /// A file or directory left out by `.gitignore`, `.ignore`, `.git/info/exclude` or git's
    /// global excludes (`--respect-gitignore`); a directory counts once.
    Ignored = "ignored", Skipped;
    /// A file or directory matching an `--exclude` glob; a directory counts once.
    Excluded = "excluded", Skipped;
    /// An image, audio, video or web-font file (known by its magic number): its bytes are
    /// pixels, samples or compressed glyphs, not text, and are not searched.
    Media = "media", Skipped;
}

impl Problem {
    /// Whether this kind leaves the scan incomplete (see [`Class::Incomplete`]).
    pub fn is_incomplete(self) -> bool {
        self.class() == Class::Incomplete
    }

    /// The kind named `s` (as printed by [`Problem::as_str`]).
    pub fn from_name(s: &str) -> Option<Problem> {
        Problem::ALL.iter().copied().find(|p| p.as_str() == s)
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Problem {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Problem {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        Problem::from_name(&name)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown problem kind {name:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_round_trip() {
        for p in Problem::ALL {
            assert_eq!(Problem::from_name(p.as_str()), Some(*p));
        }
        let mut names: Vec<_> = Problem::ALL.iter().map(|p| p.as_str()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), Problem::ALL.len());
    }

    #[test]
    fn hostile_archives_and_damaged_history_are_incomplete() {
        for p in [
            Problem::ZipBomb,
            Problem::Encrypted,
            Problem::ArchiveDepth,
            Problem::TooManyMembers,
            Problem::CorruptArchive,
            Problem::Truncated,
            Problem::CorruptObject,
            Problem::Submodule,
        ] {
            assert!(p.is_incomplete(), "{p}");
        }
        assert_eq!(Problem::Media.class(), Class::Skipped);
        assert_eq!(Problem::EmptyRange.class(), Class::Note);
    }
}
