//! Byte offset → line/column, computed only for hits.

/// Lazily maps offsets of one buffer to 1-based line and byte column.
///
/// Offsets are usually asked for in increasing order, so the index remembers the last
/// answer and counts newlines forward from there; nothing is precomputed per byte.
pub(crate) struct LineIndex<'a> {
    data: &'a [u8],
    /// Line number (0-based count of newlines) before `cached_pos`.
    cached_pos: usize,
    cached_line: usize,
    /// Start of the line holding `cached_pos`: long lines are not rescanned per finding.
    cached_line_start: usize,
}

impl<'a> LineIndex<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        LineIndex {
            data,
            cached_pos: 0,
            cached_line: 0,
            cached_line_start: 0,
        }
    }

    /// Returns the 1-based (line, column) of `offset` (clamped to the buffer).
    pub(crate) fn locate(&mut self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.data.len());
        if offset < self.cached_pos {
            self.cached_pos = 0;
            self.cached_line = 0;
            self.cached_line_start = 0;
        }
        let gap = &self.data[self.cached_pos..offset];
        self.cached_line += memchr::memchr_iter(b'\n', gap).count();
        if let Some(p) = memchr::memrchr(b'\n', gap) {
            self.cached_line_start = self.cached_pos + p + 1;
        }
        self.cached_pos = offset;
        (self.cached_line + 1, offset - self.cached_line_start + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns_are_one_based() {
        let text = b"ab\ncde\n\nf";
        let mut idx = LineIndex::new(text);
        assert_eq!(idx.locate(0), (1, 1));
        assert_eq!(idx.locate(4), (2, 2));
        assert_eq!(idx.locate(8), (4, 1));
        // Going backwards must still be right.
        assert_eq!(idx.locate(1), (1, 2));
        assert_eq!(idx.locate(9), (4, 2));
    }
}
