//! Points in time as the audit log writes them (RFC 3339, microseconds, `Z`), compared as
//! nanoseconds since the epoch.

use std::fmt;

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// A point in time, nanoseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Stamp(pub i128);

impl Stamp {
    /// Parses an RFC 3339 time (`2024-05-01T10:00:00.123456Z`, `…+02:00`).
    pub fn parse(s: &str) -> Option<Stamp> {
        OffsetDateTime::parse(s.trim(), &Rfc3339)
            .ok()
            .map(|t| Stamp(t.unix_timestamp_nanos()))
    }
}

impl fmt::Display for Stamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match OffsetDateTime::from_unix_timestamp_nanos(self.0)
            .ok()
            .and_then(|t| t.format(&Rfc3339).ok())
        {
            Some(s) => f.write_str(&s),
            None => write!(f, "@{}ns", self.0),
        }
    }
}

impl serde::Serialize for Stamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_and_fractions_compare_as_instants() {
        let a = Stamp::parse("2024-05-01T10:00:00.000001Z").unwrap();
        let b = Stamp::parse("2024-05-01T12:00:00+02:00").unwrap();
        assert!(b < a);
        assert_eq!(b.to_string(), "2024-05-01T10:00:00Z");
        assert_eq!(Stamp::parse("yesterday"), None);
    }
}
