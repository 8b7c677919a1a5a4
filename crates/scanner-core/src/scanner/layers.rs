//! Decoded layers: text that base64, JSON or percent decoding revealed is scanned again as a
//! child layer, within the depth limit and the decode budget.

use super::{Layer, Scanner, State, MAX_DEPTH};
use crate::decode::run::decode_encoded_run;
use crate::decode::runs::Runs;
use crate::decode::{Decoded, Step};

impl Scanner {
    /// Scans decoded text as a child layer, within the depth and byte budgets.
    pub(super) fn rescan(
        &self,
        state: &mut State,
        parent: &Layer<'_>,
        depth: usize,
        decoded: Decoded,
        step: Step,
    ) {
        if depth + 1 > MAX_DEPTH || decoded.bytes.is_empty() {
            return;
        }
        if decoded.bytes.len() > state.budget {
            state.over_budget = true;
            return;
        }
        state.budget -= decoded.bytes.len();
        let mut steps = parent.steps.clone();
        steps.push(step);
        let child = Layer {
            data: &decoded.bytes,
            open_start: false,
            steps,
            parent: Some((&decoded, parent)),
        };
        self.scan_layer(state, &child, depth + 1);
    }

    /// Decodes the base64 run around a hit at `phase` in its group and scans what it holds.
    pub(super) fn base64_run(
        &self,
        state: &mut State,
        layer: &Layer<'_>,
        depth: usize,
        hit: usize,
        phase: usize,
        (runs, consumed): (&mut Runs, &mut usize),
    ) {
        if depth >= MAX_DEPTH {
            return;
        }
        let data = layer.data;
        for range in runs
            .hit(data, hit, phase, layer.open_start, consumed)
            .into_iter()
            .flatten()
        {
            if let Some((decoded, pre)) = decode_encoded_run(&data[range.clone()], range.start) {
                self.rescan_steps(state, layer, depth, decoded, pre, Step::Base64);
            }
        }
    }

    /// Rescans base64 that first needed JSON or percent unescaping, recording every step.
    pub(super) fn rescan_steps(
        &self,
        state: &mut State,
        layer: &Layer<'_>,
        depth: usize,
        decoded: Decoded,
        pre: Option<(Decoded, Step)>,
        step: Step,
    ) {
        match pre {
            None => self.rescan(state, layer, depth, decoded, step),
            Some((unescaped, pre_step)) => {
                // Budget the intermediate layer too, then scan the base64 output beneath it.
                if depth + 2 > MAX_DEPTH {
                    return;
                }
                if unescaped.bytes.len() > state.budget {
                    state.over_budget = true;
                    return;
                }
                state.budget -= unescaped.bytes.len();
                let mut steps = layer.steps.clone();
                steps.push(pre_step);
                let mid = Layer {
                    data: &unescaped.bytes,
                    open_start: false,
                    steps,
                    parent: Some((&unescaped, layer)),
                };
                self.rescan(state, &mid, depth + 1, decoded, step);
            }
        }
    }
}
