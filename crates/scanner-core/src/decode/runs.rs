//! Which base64 runs of one buffer to decode, and at which alignments, as keyword hits
//! arrive in order.
//!
//! A run is decoded once from where it starts. A hit inside it whose group of four
//! characters does not line up with that decoding (base64 glued to other base64-alphabet
//! text, such as `/api/v1/ZXlK...` or a token after `\n` in a JSON string; or a keyword
//! that only looks like one) gets the run decoded again from its own group, once per
//! alignment: at most four decodings of any run, and none for hits that line up.

use std::ops::Range;

use super::run::{decode_run, phase_at, Floor, MIN_RUN, RUN_OVERLAP};
use crate::decode;

/// The run decoded last: its extent, a running count of its characters, and the
/// alignments (character index of group starts, modulo 4) decoded so far.
#[derive(Debug)]
struct Current {
    range: Range<usize>,
    counted_to: usize,
    count: usize,
    done: u8,
}

/// Base64 runs of one buffer seen so far.
#[derive(Debug, Default)]
pub(crate) struct Runs {
    cur: Option<Current>,
    /// The phase of base64 text at a floor a cut run left, as (offset, phase).
    known: Option<(usize, u8)>,
}

/// Up to two ranges to decode for one hit, each starting at a group boundary.
pub(crate) type Ranges = [Option<Range<usize>>; 2];

impl Runs {
    /// The ranges to decode for a base64 hit at `hit`, `phase` characters into its group;
    /// moves `consumed` (the end of what later hits of any kind may skip) on.
    pub(crate) fn hit(
        &mut self,
        data: &[u8],
        hit: usize,
        phase: usize,
        open_start: bool,
        consumed: &mut usize,
    ) -> Ranges {
        if hit < *consumed {
            return [self.realign(data, hit, phase), None];
        }
        if certainly_short(data, hit, *consumed) {
            // Nothing to decode, and nothing later hits could skip: the common case on
            // keyword-dense input (`ZXlK` on every line), kept to two short loops.
            return [None, None];
        }
        let floor = Floor {
            at: *consumed,
            phase: self
                .known
                .filter(|&(at, _)| at == *consumed)
                .map(|(_, p)| p),
        };
        let run = decode_run(data, hit, floor, phase, open_start);
        let range = run.range;
        if run.cut {
            // A run cut at its length limit hands its tail on to the next hit's run (with
            // the phase there), so a credential the cut splits is found whole by that one.
            let end = range.end - RUN_OVERLAP;
            self.known = Some((end, phase_at(data, range.start, end)));
            *consumed = (*consumed).max(end);
        } else {
            *consumed = (*consumed).max(range.end);
        }
        self.cur = Some(Current {
            range: range.clone(),
            counted_to: range.start,
            count: 0,
            done: 1,
        });
        let alt = self.realign(data, hit, phase);
        [(range.len() >= MIN_RUN).then_some(range), alt]
    }

    /// True when `pos` lies in the run decoded last.
    pub(crate) fn covers(&self, pos: usize) -> bool {
        self.cur.as_ref().is_some_and(|c| c.range.contains(&pos))
    }

    /// For a hit inside the current run: the range from its group's start to the run's
    /// end, when the run has not been decoded at that alignment yet.
    fn realign(&mut self, data: &[u8], hit: usize, phase: usize) -> Option<Range<usize>> {
        let cur = self.cur.as_mut()?;
        if !cur.range.contains(&hit) || hit < cur.counted_to {
            return None;
        }
        cur.count += count_chars(data, cur.counted_to, hit);
        cur.counted_to = hit;
        let align = (cur.count + 4 - phase % 4) % 4;
        if cur.done & (1 << align) != 0 {
            return None;
        }
        cur.done |= 1 << align;
        // Back over the `phase` characters of the hit's group that precede it.
        let mut start = hit;
        for _ in 0..phase % 4 {
            if start <= cur.range.start {
                break;
            }
            let b = data[start - 1];
            if decode::is_base64_char(b) {
                start -= 1;
            } else if b == b'/' && start >= cur.range.start + 2 && data[start - 2] == b'\\' {
                start -= 2;
            } else {
                break;
            }
        }
        let range = start..cur.range.end;
        (range.len() >= MIN_RUN).then_some(range)
    }
}

/// True when the run around `hit` is shorter than [`MIN_RUN`] for sure: even counting every
/// byte that may belong to a run or its escapes (`\\`, `%`, `=`), fewer lie around it.
fn certainly_short(data: &[u8], hit: usize, floor: usize) -> bool {
    let may = |b: &&u8| decode::is_base64_char(**b) || matches!(**b, b'=' | b'\\' | b'%');
    let lo = hit.saturating_sub(MIN_RUN).max(floor.min(hit));
    let hi = (hit + MIN_RUN).min(data.len());
    let back = data[lo..hit].iter().rev().take_while(may).count();
    let ahead = data[hit..hi].iter().take_while(may).count();
    back + ahead < MIN_RUN
}

/// Base64 characters in `data[from..to]` modulo 4 (all alignment needs), escapes of one
/// character counted as one.
fn count_chars(data: &[u8], from: usize, to: usize) -> usize {
    phase_at(data, from, to) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hit_glued_to_other_base64_text_is_decoded_at_its_own_alignment() {
        // `/api/v1/` (8 characters of the alphabet) then 3 more before the hit: decoded
        // from the run's start, and again from the hit.
        let text = b"GET /api/v1/abcZXlKaGJHY2lPaUpTVXpJMU5pSXNJbXRwWkNJNklpSjkuZXlK HTTP";
        let hit = 15;
        let mut runs = Runs::default();
        let mut consumed = 0;
        let [main, alt] = runs.hit(text, hit, 0, false, &mut consumed);
        assert_eq!(main, Some(4..63));
        assert_eq!(alt, Some(15..63));
        // A later hit at an alignment already decoded adds nothing.
        assert_eq!(runs.hit(text, 59, 0, false, &mut consumed), [None, None]);
        // A hit that lines up with the run's start is decoded once.
        let text = b"x ZXlKaGJHY2lPaUpTVXpJMU5pSXNJbXRwWkNJNklpSjkuZXlKaGJH y";
        let mut runs = Runs::default();
        let mut consumed = 0;
        let [main, alt] = runs.hit(text, 2, 0, false, &mut consumed);
        assert_eq!((main, alt), (Some(2..54), None));
    }
}
