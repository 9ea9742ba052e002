//! The forest scored by leaf bitmasks instead of by walking each tree (the QuickScorer
//! scheme of Lucchese et al., SIGIR 2015).
//!
//! Number each tree's leaves left to right. A split whose test a row fails (the row goes
//! right) rules out every leaf of the split's left subtree; the row's leaf is then the
//! leftmost leaf no failed split ruled out, because a split on the row's own path that
//! rules out leaves is one the row went right at, so its left subtree is not where the row
//! went. Which splits a row fails is found feature by feature: a row fails `value <=
//! threshold` at exactly the splits on that feature whose threshold is below the value, a
//! prefix of them once they are sorted by threshold. So a row costs one ordered scan of
//! the splits it fails and one AND each, with no branch that depends on the row's path,
//! where a walk is a chain of dependent loads and unpredictable branches per tree (the
//! 1h model's 150 trees of 15 leaves: about 2 µs a row walked).
//!
//! The leaf reached is the walk's, and the leaves are added in tree order as the walk adds
//! them, so the sum is the walk's to the bit (a test holds it to that on fitted models and
//! on hand-made forests with LightGBM's zero-as-missing splits).

use std::cell::RefCell;

use super::{Forest, ZERO_THRESHOLD};
use crate::features::N_FEATURES;
use crate::model::Row;

/// A split as the scan reads it: a row that fails it keeps only `keep`'s leaves of `tree`.
#[derive(Debug, Clone, Copy)]
struct Split {
    threshold: f64,
    tree: u32,
    keep: u64,
}

/// The forest's splits by feature and threshold, and each tree's leaves in order.
#[derive(Debug, Clone)]
pub(super) struct Bitmasks {
    /// Per feature, its ordinary splits by ascending threshold.
    compared: [Vec<Split>; N_FEATURES],
    /// Per feature, its zero-as-missing splits by ascending threshold: compared as above,
    /// unless the value counts as zero, when the split sends the row to its default side.
    zero_missing: [Vec<Split>; N_FEATURES],
    /// Per feature, the zero-as-missing splits whose default side is right: the ones a
    /// value that counts as zero fails.
    zero_goes_right: [Vec<Split>; N_FEATURES],
    /// Tree `t`'s leaves, left to right, as indices into the forest's leaves, are
    /// `leaf_order[first_leaf[t]..]`.
    first_leaf: Vec<usize>,
    leaf_order: Vec<usize>,
}

/// One step of the in-order traversal that numbers a tree's leaves.
enum Step {
    Enter(i32),
    /// The node's left subtree is done; its leaves are numbered from `first` on.
    LeftDone {
        node: usize,
        first: u32,
    },
}

thread_local! {
    /// The leaves still possible in each tree, reused across rows on this thread.
    static POSSIBLE: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
}

impl Bitmasks {
    /// `None` when a tree has more than 64 leaves (one `u64` of them), or when the forest
    /// is not a set of trees (a node or leaf reached twice, an index out of range or a NaN
    /// threshold, as a tampered file may hold): such a forest is walked instead.
    pub(super) fn new(forest: &Forest) -> Option<Self> {
        if forest.nodes.iter().any(|n| n.threshold.is_nan()) {
            return None;
        }
        let mut b = Bitmasks {
            compared: Default::default(),
            zero_missing: Default::default(),
            zero_goes_right: Default::default(),
            first_leaf: Vec::with_capacity(forest.roots.len()),
            leaf_order: Vec::with_capacity(forest.leaves.len()),
        };
        let mut node_seen = vec![false; forest.nodes.len()];
        let mut leaf_seen = vec![false; forest.leaves.len()];
        let mut stack = Vec::new();
        for (t, &root) in forest.roots.iter().enumerate() {
            let tree = u32::try_from(t).ok()?;
            b.first_leaf.push(b.leaf_order.len());
            let mut leaves = 0u32;
            stack.push(Step::Enter(root));
            while let Some(step) = stack.pop() {
                match step {
                    Step::Enter(c) if c < 0 => {
                        let leaf = (!c) as usize;
                        if std::mem::replace(leaf_seen.get_mut(leaf)?, true) {
                            return None;
                        }
                        b.leaf_order.push(leaf);
                        leaves += 1;
                        if leaves > 64 {
                            return None;
                        }
                    }
                    Step::Enter(k) => {
                        let node = k as usize;
                        if std::mem::replace(node_seen.get_mut(node)?, true) {
                            return None;
                        }
                        stack.push(Step::LeftDone {
                            node,
                            first: leaves,
                        });
                        stack.push(Step::Enter(forest.nodes[node].left));
                    }
                    Step::LeftDone { node, first } => {
                        let n = &forest.nodes[node];
                        let width = leaves - first;
                        let left_leaves = if width >= 64 {
                            u64::MAX
                        } else {
                            ((1u64 << width) - 1) << first
                        };
                        let split = Split {
                            threshold: n.threshold,
                            tree,
                            keep: !left_leaves,
                        };
                        let f = usize::from(n.feature);
                        if n.zero_missing {
                            b.zero_missing.get_mut(f)?.push(split);
                            if !n.default_left {
                                b.zero_goes_right[f].push(split);
                            }
                        } else {
                            b.compared.get_mut(f)?.push(split);
                        }
                        stack.push(Step::Enter(n.right));
                    }
                }
            }
        }
        for splits in b.compared.iter_mut().chain(&mut b.zero_missing) {
            splits.sort_by(|x, y| x.threshold.total_cmp(&y.threshold));
        }
        Some(b)
    }

    /// The forest's summed output for `row`, the walk's to the bit.
    pub(super) fn sum(&self, forest: &Forest, row: &Row) -> f64 {
        POSSIBLE.with(|cell| match cell.try_borrow_mut() {
            Ok(mut possible) => self.sum_into(forest, row, &mut possible),
            // Only a re-entrant call (none today) lands here; it pays for its own buffer.
            Err(_) => self.sum_into(forest, row, &mut Vec::new()),
        })
    }

    fn sum_into(&self, forest: &Forest, row: &Row, possible: &mut Vec<u64>) -> f64 {
        possible.clear();
        possible.resize(self.first_leaf.len(), u64::MAX);
        let fail = |possible: &mut [u64], splits: &[Split], value: f64| {
            // `value <= threshold` fails exactly where the threshold is below the value.
            for s in splits.iter().take_while(|s| s.threshold < value) {
                possible[s.tree as usize] &= s.keep;
            }
        };
        for (f, &value) in row.iter().enumerate() {
            if value.is_nan() {
                // A NaN fails every comparison, and it does not count as zero.
                for s in self.compared[f].iter().chain(&self.zero_missing[f]) {
                    possible[s.tree as usize] &= s.keep;
                }
                continue;
            }
            fail(possible, &self.compared[f], value);
            if value.abs() <= ZERO_THRESHOLD {
                for s in &self.zero_goes_right[f] {
                    possible[s.tree as usize] &= s.keep;
                }
            } else {
                fail(possible, &self.zero_missing[f], value);
            }
        }
        let mut total = 0.0;
        for (&first, &p) in self.first_leaf.iter().zip(possible.iter()) {
            // The row's own leaf is never ruled out, so `p` has a bit set.
            let leaf = self.leaf_order[first + p.trailing_zeros() as usize];
            total += forest.leaves[leaf];
        }
        total
    }
}
