//! Byte offset → line/column, computed only for hits; and the one place where a window
//! of a bigger input (a streamed chunk, a mapped window) is placed in the whole input.

use crate::finding::Finding;

/// Where a window of an input starts in the whole input: the shift for findings made in
/// the window's own coordinates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Start {
    /// Byte offset of the window's first byte.
    pub offset: u64,
    /// Newlines before it.
    pub line: usize,
    /// Bytes of the line it starts in that lie before it (a minified JSON file is one line
    /// across many windows, and columns count from the line's true start).
    pub column: usize,
}

impl Start {
    /// Moves a finding located within its window to whole-input coordinates.
    pub(crate) fn place(&self, f: &mut Finding) {
        if f.line == 1 {
            f.column += self.column;
        }
        if f.end_line == 1 {
            f.end_column += self.column;
        }
        f.line += self.line;
        f.end_line += self.line;
        f.byte_offset += self.offset;
    }

    /// The start of the window that begins right after `span`, which begins here.
    pub(crate) fn after(self, span: Span) -> Start {
        Start {
            offset: self.offset + span.len as u64,
            line: self.line + span.newlines,
            column: span.tail.unwrap_or(self.column + span.len),
        }
    }
}

/// The newlines in a stretch of bytes, as far as [`Start::after`] needs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    len: usize,
    newlines: usize,
    /// Bytes after its last newline, if it has one.
    tail: Option<usize>,
}

impl Span {
    /// Counts the newlines of `bytes`.
    pub(crate) fn of(bytes: &[u8]) -> Span {
        Span {
            len: bytes.len(),
            newlines: memchr::memchr_iter(b'\n', bytes).count(),
            tail: memchr::memrchr(b'\n', bytes).map(|p| bytes.len() - p - 1),
        }
    }
}

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

    #[test]
    fn a_window_start_follows_the_spans_before_it() {
        let text = b"ab\ncde\nfgh";
        // Windows at 0, 4 and 9: the last starts on line 3 (at 7), after its "fg".
        let s = Start::default()
            .after(Span::of(&text[..4]))
            .after(Span::of(&text[4..9]));
        assert_eq!((s.offset, s.line, s.column), (9, 2, 2));
        // No newline in a span: the column grows by its length.
        let t = s.after(Span::of(b"xyz"));
        assert_eq!((t.offset, t.line, t.column), (12, 2, 5));
    }
}
