//! The second direction model: gradient-boosted decision trees, trained by LightGBM.
//!
//! LightGBM (through `lightgbm3`, built from the C++ sources its `-sys` crate vendors) does
//! the training; the fitted trees are then read out of LightGBM's model text into plain
//! Rust values. Scoring is done in Rust, so a model is `Clone + Send + Sync`, serialises
//! with serde like the logistic model, needs no native handle at run time, and scores one
//! row of 150 trees in under a microsecond (the live path scores hundreds of symbols per
//! candle close; the walk-forward scores 766,000 rows): by leaf bitmasks
//! (`gbdt/bitmasks.rs`), or by walking the trees where the bitmasks cannot describe them. Unit
//! tests hold the Rust walk to LightGBM's own prediction and the bitmasks to the walk, bit
//! for bit.
//!
//! # Determinism
//!
//! Training is single-threaded (`num_threads = 1`; the library is also built without
//! OpenMP), column-wise histograms are forced and `deterministic = true`, and every random
//! choice (bagging, feature subsampling) is seeded from [`GbdtConfig::seed`]; LightGBM bins
//! from every row when there are fewer than its 200,000-row sample, and the bins of
//! [`GbdtConfig::max_bin`] are computed here without randomness: the same rows give the same
//! trees bit for bit, which the reproducibility tests of the walk-forward evaluation rely on.
//!
//! # Bins
//!
//! `lightgbm3` builds LightGBM's dataset with LightGBM's defaults and passes it no parameters,
//! so LightGBM always bins a feature into up to 255 bins itself (a `max_bin` among the
//! training parameters is ignored: the dataset is already built). A smaller
//! [`GbdtConfig::max_bin`] is therefore applied before LightGBM sees the rows: each feature's
//! training values are cut at their quantiles into at most `max_bin` bins and replaced by the
//! bin's number, so LightGBM finds that many distinct values and makes one bin of each. The
//! model keeps the cut points ([`GbdtModel::bin_edges`]) and scores a row after the same
//! replacement.

mod bitmasks;

use serde::{Deserialize, Serialize};

use crate::SignalError;
use crate::features::{FEATURE_NAMES, FEATURE_SET_VERSION, N_FEATURES};
use crate::model::{Platt, Row, check_rows, fit_platt, sigmoid};

/// Boosting settings. The defaults were chosen before looking at any test window (small,
/// shallow, strongly regularised trees: a few thousand noisy rows per fold cannot support
/// more), not tuned on the evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GbdtConfig {
    /// Boosting rounds (trees).
    pub num_iterations: usize,
    pub learning_rate: f64,
    /// Leaves per tree.
    pub num_leaves: usize,
    /// Fewest training rows in a leaf.
    pub min_data_in_leaf: usize,
    /// L2 penalty on leaf values.
    pub lambda_l2: f64,
    /// Share of features each tree may use (seeded).
    pub feature_fraction: f64,
    /// Share of rows each tree trains on (seeded); 1 turns bagging off.
    pub bagging_fraction: f64,
    /// Seed of every random choice LightGBM makes.
    pub seed: u32,
    /// Most histogram bins per feature (see the module's "Bins"); 255 or more leaves the
    /// binning to LightGBM's own 255. A config written before the field existed was trained
    /// with LightGBM's 255.
    #[serde(default = "lightgbm_default_max_bin")]
    pub max_bin: usize,
}

fn lightgbm_default_max_bin() -> usize {
    255
}

impl Default for GbdtConfig {
    fn default() -> Self {
        Self {
            num_iterations: 150,
            learning_rate: 0.03,
            num_leaves: 15,
            min_data_in_leaf: 100,
            lambda_l2: 1.0,
            feature_fraction: 0.8,
            bagging_fraction: 0.8,
            seed: 42,
            max_bin: 63,
        }
    }
}

impl GbdtConfig {
    fn check(&self) -> Result<(), SignalError> {
        let ok = self.num_iterations >= 1
            && self.num_iterations <= 100_000
            && self.learning_rate > 0.0
            && self.learning_rate.is_finite()
            && self.num_leaves >= 2
            && self.num_leaves <= 131_072
            && self.min_data_in_leaf >= 1
            && self.lambda_l2 >= 0.0
            && self.lambda_l2.is_finite()
            && self.feature_fraction > 0.0
            && self.feature_fraction <= 1.0
            && self.bagging_fraction > 0.0
            && self.bagging_fraction <= 1.0
            && self.max_bin >= 2
            && self.max_bin <= 65_535;
        if ok {
            Ok(())
        } else {
            Err(SignalError::BadParam(format!("bad GBDT config {self:?}")))
        }
    }

    /// LightGBM's parameters for this config.
    fn params(&self) -> serde_json::Value {
        serde_json::json!({
            "objective": "binary",
            "num_iterations": self.num_iterations,
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_data_in_leaf": self.min_data_in_leaf,
            "lambda_l2": self.lambda_l2,
            "feature_fraction": self.feature_fraction,
            "bagging_fraction": self.bagging_fraction,
            "bagging_freq": if self.bagging_fraction < 1.0 { 1 } else { 0 },
            "seed": self.seed,
            "max_bin": self.max_bin,
            "deterministic": true,
            "force_col_wise": true,
            "num_threads": 1,
            "verbosity": -1,
        })
    }
}

/// One regression tree as LightGBM wrote it: internal node `k` sends a row left when
/// `row[split_feature[k]] <= threshold[k]`; a child `c < 0` is leaf `!c`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tree {
    pub split_feature: Vec<u16>,
    pub threshold: Vec<f64>,
    /// LightGBM's `decision_type` bits: 1 categorical (refused), 2 default left, bits 2–3
    /// the missing-value type (0 none, 1 zero, 2 NaN).
    pub decision_type: Vec<u8>,
    pub left_child: Vec<i32>,
    pub right_child: Vec<i32>,
    /// Leaf outputs, learning rate already applied.
    pub leaf_value: Vec<f64>,
}

/// LightGBM's `kZeroThreshold`: a value this close to 0 counts as zero for missing-zero splits.
const ZERO_THRESHOLD: f64 = 1e-35;

impl Tree {
    #[cfg(test)]
    fn output(&self, row: &Row) -> f64 {
        if self.split_feature.is_empty() {
            return self.leaf_value.first().copied().unwrap_or(0.0);
        }
        let mut node: i32 = 0;
        // Bounded by the node count, so a malformed tree cannot loop.
        for _ in 0..=self.split_feature.len() {
            let k = node as usize;
            let v = row[usize::from(self.split_feature[k])];
            let d = self.decision_type[k];
            let missing = (d >> 2) & 3;
            let default_left = d & 2 != 0;
            // Rows are always finite; the zero rule still applies to LightGBM's split.
            let go_left = if missing == 1 && v.abs() <= ZERO_THRESHOLD {
                default_left
            } else {
                v <= self.threshold[k]
            };
            node = if go_left {
                self.left_child[k]
            } else {
                self.right_child[k]
            };
            if node < 0 {
                return self.leaf_value[(!node) as usize];
            }
        }
        0.0
    }

    fn check(&self) -> Result<(), String> {
        let n = self.split_feature.len();
        let leaves = self.leaf_value.len();
        if [
            self.threshold.len(),
            self.decision_type.len(),
            self.left_child.len(),
            self.right_child.len(),
        ]
        .iter()
        .any(|&l| l != n)
            || leaves != n + 1
        {
            return Err("tree arrays disagree in length".into());
        }
        if self.decision_type.iter().any(|d| d & 1 != 0) {
            return Err("categorical splits are not supported".into());
        }
        if self
            .split_feature
            .iter()
            .any(|&f| usize::from(f) >= N_FEATURES)
        {
            return Err("a split names a feature the feature set does not have".into());
        }
        // LightGBM numbers a split node after its parent: requiring children to come later
        // keeps every walk finite.
        let child_ok = |parent: usize, c: i32| {
            if c < 0 {
                ((!c) as usize) < leaves
            } else {
                (c as usize) < n && c as usize > parent
            }
        };
        let children_ok =
            (0..n).all(|k| child_ok(k, self.left_child[k]) && child_ok(k, self.right_child[k]));
        if !children_ok {
            return Err("a child index is out of range".into());
        }
        if !self
            .threshold
            .iter()
            .chain(&self.leaf_value)
            .all(|v| !v.is_nan())
        {
            return Err("a threshold or leaf value is NaN".into());
        }
        Ok(())
    }
}

/// One split of the flattened forest.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Node {
    pub feature: u16,
    /// LightGBM's missing-zero split: a value within 1e-35 of 0 goes to the default side.
    pub zero_missing: bool,
    pub default_left: bool,
    pub threshold: f64,
    /// `≥ 0`: a later node of `nodes`; `< 0`: leaf `!child` of `leaves`.
    pub left: i32,
    pub right: i32,
}

/// Every tree in three flat arrays (what a saved model holds), fixed once made, and the
/// bitmasks [`Forest::sum`] scores with, derived from them on first use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Forest {
    /// Each tree's first node (`< 0`: a single-leaf tree).
    roots: Vec<i32>,
    nodes: Vec<Node>,
    /// Leaf outputs, learning rate already applied.
    leaves: Vec<f64>,
    #[serde(skip)]
    bitmasks: Derived,
}

/// [`bitmasks::Bitmasks`] made on first use (`None`: a forest they cannot describe, which is
/// walked). Not part of the forest's value: forests with the same trees are equal whether
/// or not either has scored a row yet.
#[derive(Default, Clone)]
struct Derived(std::sync::OnceLock<Option<Box<bitmasks::Bitmasks>>>);

impl PartialEq for Derived {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl std::fmt::Debug for Derived {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Derived")
    }
}

impl Forest {
    /// Flattens parsed trees.
    ///
    /// # Errors
    /// [`SignalError::Fit`] for a malformed tree or a forest too large to index.
    pub fn from_trees(trees: &[Tree]) -> Result<Self, SignalError> {
        let too_big = || SignalError::Fit("the forest is too large".into());
        let mut f = Forest {
            roots: Vec::with_capacity(trees.len()),
            nodes: Vec::new(),
            leaves: Vec::new(),
            bitmasks: Derived::default(),
        };
        for (i, t) in trees.iter().enumerate() {
            t.check()
                .map_err(|e| SignalError::Fit(format!("tree {i}: {e}")))?;
            let node0 = i32::try_from(f.nodes.len()).map_err(|_| too_big())?;
            let leaf0 = i32::try_from(f.leaves.len()).map_err(|_| too_big())?;
            let shift = |c: i32| if c < 0 { !((!c) + leaf0) } else { c + node0 };
            f.roots.push(if t.split_feature.is_empty() {
                !leaf0
            } else {
                node0
            });
            for k in 0..t.split_feature.len() {
                let d = t.decision_type[k];
                f.nodes.push(Node {
                    feature: t.split_feature[k],
                    zero_missing: (d >> 2) & 3 == 1,
                    default_left: d & 2 != 0,
                    threshold: t.threshold[k],
                    left: shift(t.left_child[k]),
                    right: shift(t.right_child[k]),
                });
            }
            f.leaves.extend(&t.leaf_value);
        }
        f.check()?;
        Ok(f)
    }

    /// Checks indices and ordering, so [`Forest::sum`] neither panics nor loops (a saved
    /// model from a file is checked before use).
    ///
    /// # Errors
    /// [`SignalError::Fit`] naming the first problem.
    pub fn check(&self) -> Result<(), SignalError> {
        let bad = |w: &str| Err(SignalError::Fit(format!("forest: {w}")));
        let (n, l) = (self.nodes.len(), self.leaves.len());
        let ok = |from: Option<usize>, c: i32| {
            if c < 0 {
                ((!c) as usize) < l
            } else {
                (c as usize) < n && from.is_none_or(|p| c as usize > p)
            }
        };
        if self.roots.is_empty() {
            return bad("no trees");
        }
        if !self.roots.iter().all(|&r| ok(None, r)) {
            return bad("a root is out of range");
        }
        for (k, node) in self.nodes.iter().enumerate() {
            if usize::from(node.feature) >= N_FEATURES || node.threshold.is_nan() {
                return bad("a split names an unknown feature or a NaN threshold");
            }
            if !(ok(Some(k), node.left) && ok(Some(k), node.right)) {
                return bad("a child is out of range or before its parent");
            }
        }
        if self.leaves.iter().any(|v| !v.is_finite()) {
            return bad("a leaf value is not finite");
        }
        Ok(())
    }

    /// Number of trees.
    pub fn len(&self) -> usize {
        self.roots.len()
    }

    /// Whether the forest has no tree (never true of a checked one).
    pub fn is_empty(&self) -> bool {
        self.roots.is_empty()
    }

    /// The summed output of every tree for `row`, added in tree order as LightGBM does.
    ///
    /// Scored with the forest's leaf bitmasks (see `gbdt/bitmasks.rs`; about 2.5× faster than
    /// walking for the 1h model), or walked when they cannot describe the forest; the two
    /// give the same value to the bit.
    pub fn sum(&self, row: &Row) -> f64 {
        match self
            .bitmasks
            .0
            .get_or_init(|| bitmasks::Bitmasks::new(self).map(Box::new))
        {
            Some(b) => b.sum(self, row),
            None => self.walk(row),
        }
    }

    /// [`Forest::sum`] by walking each tree from its root.
    fn walk(&self, row: &Row) -> f64 {
        // Walking a tree is a chain of dependent loads; walking several trees side by side
        // lets the CPU overlap those chains (1.35 ms became 0.78 ms for 300 rows in
        // the live bench).
        const LANES: usize = 8;
        let step = |at: i32| -> i32 {
            let node = &self.nodes[at as usize];
            let v = row[usize::from(node.feature)];
            let mut left = v <= node.threshold;
            if node.zero_missing && v.abs() <= ZERO_THRESHOLD {
                left = node.default_left;
            }
            if left { node.left } else { node.right }
        };
        let mut total = 0.0;
        let mut chunks = self.roots.chunks_exact(LANES);
        for chunk in &mut chunks {
            let mut at = [0i32; LANES];
            at.copy_from_slice(chunk);
            while at.iter().any(|&a| a >= 0) {
                for a in &mut at {
                    if *a >= 0 {
                        *a = step(*a);
                    }
                }
            }
            for a in at {
                total += self.leaves[(!a) as usize];
            }
        }
        for &root in chunks.remainder() {
            let mut a = root;
            while a >= 0 {
                a = step(a);
            }
            total += self.leaves[(!a) as usize];
        }
        total
    }
}

/// Parses the trees of LightGBM's text model format (`Booster::save_string`).
///
/// # Errors
/// [`SignalError::Fit`] naming what did not parse.
pub fn parse_lightgbm_model(text: &str) -> Result<(Vec<Tree>, f64), SignalError> {
    let bad = |what: String| SignalError::Fit(format!("LightGBM model text: {what}"));
    let mut sigmoid = None;
    let mut trees: Vec<Tree> = Vec::new();
    let mut current: Option<Tree> = None;
    fn list<T: std::str::FromStr>(v: &str) -> Option<Vec<T>> {
        v.split_whitespace().map(|s| s.parse().ok()).collect()
    }
    for line in text.lines() {
        let line = line.trim();
        if line == "end of trees" {
            break;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        match key {
            "objective" => {
                let mut parts = value.split_whitespace();
                if parts.next() != Some("binary") {
                    return Err(bad(format!("objective {value} is not binary")));
                }
                sigmoid = Some(
                    parts
                        .find_map(|p| p.strip_prefix("sigmoid:"))
                        .and_then(|s| s.parse::<f64>().ok())
                        .unwrap_or(1.0),
                );
            }
            "num_class" if value != "1" => return Err(bad(format!("{value} classes"))),
            "Tree" => {
                if let Some(t) = current.take() {
                    trees.push(t);
                }
                current = Some(Tree {
                    split_feature: Vec::new(),
                    threshold: Vec::new(),
                    decision_type: Vec::new(),
                    left_child: Vec::new(),
                    right_child: Vec::new(),
                    leaf_value: Vec::new(),
                });
            }
            _ => {
                let Some(t) = current.as_mut() else { continue };
                let field = |name: &str| bad(format!("tree {}: bad {name}", trees.len()));
                match key {
                    "num_cat" if value != "0" => {
                        return Err(bad("categorical features are not supported".into()));
                    }
                    "is_linear" if value != "0" => {
                        return Err(bad("linear trees are not supported".into()));
                    }
                    "split_feature" => {
                        t.split_feature = list(value).ok_or_else(|| field(key))?;
                    }
                    "threshold" => t.threshold = list(value).ok_or_else(|| field(key))?,
                    "decision_type" => t.decision_type = list(value).ok_or_else(|| field(key))?,
                    "left_child" => t.left_child = list(value).ok_or_else(|| field(key))?,
                    "right_child" => t.right_child = list(value).ok_or_else(|| field(key))?,
                    "leaf_value" => t.leaf_value = list(value).ok_or_else(|| field(key))?,
                    _ => {}
                }
            }
        }
    }
    if let Some(t) = current.take() {
        trees.push(t);
    }
    let sigmoid = sigmoid.ok_or_else(|| bad("no objective line".into()))?;
    if trees.is_empty() {
        return Err(bad("no trees".into()));
    }
    Ok((trees, sigmoid))
}

/// A fitted boosted-tree model, serialisable with the feature-set version it was trained on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GbdtModel {
    pub feature_set_version: u32,
    pub feature_names: Vec<String>,
    pub config: GbdtConfig,
    /// LightGBM's binary objective maps the summed tree output `s` to `σ(sigmoid · s)`.
    pub sigmoid: f64,
    pub forest: Forest,
    pub platt: Option<Platt>,
    /// Rows the model was fitted on.
    pub n_train: usize,
    /// Per feature, the ascending cut points of its bins: a value is replaced by the number of
    /// cut points below it before the trees see it. Empty when LightGBM binned the raw values
    /// (`max_bin` ≥ 255, and every model saved before there were cut points).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bin_edges: Vec<Vec<f64>>,
}

/// LightGBM's own most bins per feature (`max_bin`'s default), which `lightgbm3` always uses.
const LIGHTGBM_MAX_BIN: usize = 255;

/// Each feature's cut points for at most `max_bin` bins of `rows`: the values at the
/// `k / max_bin` quantiles, `k = 1 … max_bin − 1`, without repeats.
fn bin_edges(rows: &[Row], max_bin: usize) -> Vec<Vec<f64>> {
    let n = rows.len();
    (0..N_FEATURES)
        .map(|j| {
            let mut column: Vec<f64> = rows.iter().map(|r| r[j]).collect();
            column.sort_by(f64::total_cmp);
            let mut edges: Vec<f64> = (1..max_bin)
                .filter_map(|k| column.get(k * n / max_bin).copied())
                .collect();
            edges.dedup();
            edges
        })
        .collect()
}

/// `row` with each value replaced by its bin's number under `edges` (unchanged without edges).
fn binned(edges: &[Vec<f64>], row: &Row) -> Row {
    if edges.is_empty() {
        return *row;
    }
    let mut out = *row;
    for (v, e) in out.iter_mut().zip(edges) {
        *v = e.partition_point(|&x| x < *v) as f64;
    }
    out
}

fn lgbm(e: lightgbm3::Error) -> SignalError {
    SignalError::Fit(e.to_string())
}

impl GbdtModel {
    /// Fits the trees to rows of feature set [`FEATURE_SET_VERSION`]; `true` means "up".
    ///
    /// # Errors
    /// [`SignalError::LengthMismatch`], [`SignalError::NotFinite`], [`SignalError::BadParam`]
    /// for a bad config, or [`SignalError::Fit`] (no rows, one class only, or LightGBM
    /// refusing).
    pub fn fit(rows: &[Row], labels: &[bool], config: GbdtConfig) -> Result<Self, SignalError> {
        check_rows(rows, labels)?;
        config.check()?;
        let positives = labels.iter().filter(|&&v| v).count();
        if positives == 0 || positives == labels.len() {
            return Err(SignalError::Fit(
                "the training rows hold a single class".into(),
            ));
        }
        let edges = if config.max_bin < LIGHTGBM_MAX_BIN {
            bin_edges(rows, config.max_bin)
        } else {
            Vec::new()
        };
        let flat: Vec<f64> = rows.iter().flat_map(|r| binned(&edges, r)).collect();
        let y: Vec<f32> = labels.iter().map(|&u| if u { 1.0 } else { 0.0 }).collect();
        let n_features = i32::try_from(N_FEATURES).expect("a dozen features fit an i32");
        let data = lightgbm3::Dataset::from_slice(&flat, &y, n_features, true).map_err(lgbm)?;
        let booster = lightgbm3::Booster::train(data, &config.params()).map_err(lgbm)?;
        let text = booster.save_string().map_err(lgbm)?;
        let (trees, sigmoid) = parse_lightgbm_model(&text)?;
        let forest = Forest::from_trees(&trees)?;
        Ok(Self {
            feature_set_version: FEATURE_SET_VERSION,
            feature_names: FEATURE_NAMES.iter().map(|s| (*s).to_string()).collect(),
            config,
            sigmoid,
            forest,
            platt: None,
            n_train: rows.len(),
            bin_edges: edges,
        })
    }

    /// The uncalibrated log-odds of "up": `sigmoid ×` the summed tree outputs.
    pub fn logit(&self, row: &Row) -> f64 {
        self.sigmoid * self.forest.sum(&binned(&self.bin_edges, row))
    }

    /// Checks what scoring relies on in a model read from a file: the forest's indices
    /// ([`Forest::check`]) and the cut points (none, or one ascending finite list per feature).
    ///
    /// # Errors
    /// [`SignalError::Fit`] naming the first problem.
    pub fn check(&self) -> Result<(), SignalError> {
        self.forest.check()?;
        let ascending =
            |e: &Vec<f64>| e.iter().all(|v| v.is_finite()) && e.windows(2).all(|w| w[0] < w[1]);
        if self.bin_edges.is_empty()
            || (self.bin_edges.len() == N_FEATURES && self.bin_edges.iter().all(ascending))
        {
            Ok(())
        } else {
            Err(SignalError::Fit(
                "bin edges: one ascending list of finite cut points per feature".into(),
            ))
        }
    }

    /// Fits Platt scaling on rows the model was not trained on (the calibration fold).
    ///
    /// # Errors
    /// As [`GbdtModel::fit`].
    pub fn calibrate(&mut self, rows: &[Row], labels: &[bool]) -> Result<(), SignalError> {
        check_rows(rows, labels)?;
        let z: Vec<f64> = rows.iter().map(|r| self.logit(r)).collect();
        self.platt = Some(fit_platt(&z, labels)?);
        Ok(())
    }

    /// Probability that the next move is up, calibrated when [`Self::calibrate`] ran.
    ///
    /// # Errors
    /// [`SignalError::FeatureVersion`] when `feature_set_version` is not the model's,
    /// [`SignalError::NotFinite`] for a non-finite feature.
    pub fn predict_proba(&self, feature_set_version: u32, row: &Row) -> Result<f64, SignalError> {
        crate::model::check_version(self.feature_set_version, feature_set_version, row)?;
        let z = self.logit(row);
        Ok(match self.platt {
            Some(Platt { a, b }) => sigmoid(a * z + b),
            None => sigmoid(z),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(n: usize) -> (Vec<Row>, Vec<bool>) {
        let mut s = 9u64;
        let mut u = || {
            s = s
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((s >> 11) as f64) / ((1u64 << 53) as f64)
        };
        (0..n)
            .map(|_| {
                let mut r = [0.0; N_FEATURES];
                for v in &mut r {
                    *v = u() * 2.0 - 1.0;
                }
                // A non-linear truth: up when x0 and x1 agree in sign, mostly.
                let up = (r[0] * r[1] > 0.0) ^ (u() < 0.2);
                (r, up)
            })
            .unzip()
    }

    /// LightGBM's own binning (255) and the model's cut points (the default 63).
    fn both_binnings() -> [GbdtConfig; 2] {
        [
            GbdtConfig {
                max_bin: LIGHTGBM_MAX_BIN,
                ..GbdtConfig::default()
            },
            GbdtConfig::default(),
        ]
    }

    #[test]
    fn rust_tree_walk_equals_lightgbm_prediction() {
        let (rows, ys) = data(3_000);
        for cfg in both_binnings() {
            let m = GbdtModel::fit(&rows, &ys, cfg).expect("fit");
            assert_eq!(m.forest.len(), cfg.num_iterations);
            // LightGBM sees the rows as the model feeds them to its trees.
            let seen: Vec<Row> = rows.iter().map(|r| binned(&m.bin_edges, r)).collect();
            let flat: Vec<f64> = seen.iter().flatten().copied().collect();
            let y: Vec<f32> = ys.iter().map(|&u| f32::from(u8::from(u))).collect();
            let ds = lightgbm3::Dataset::from_slice(&flat, &y, N_FEATURES as i32, true)
                .expect("dataset");
            let booster = lightgbm3::Booster::train(ds, &cfg.params()).expect("train");
            let theirs = booster
                .predict(&flat, N_FEATURES as i32, true)
                .expect("predict");
            let (trees, _) =
                parse_lightgbm_model(&booster.save_string().expect("text")).expect("parse");
            for r in seen.iter().take(200) {
                let by_tree: f64 = trees.iter().map(|t| t.output(r)).sum();
                assert_eq!(by_tree, m.forest.sum(r));
            }
            for (r, p) in rows.iter().zip(theirs) {
                let ours = sigmoid(m.logit(r));
                assert!((ours - p).abs() < 1e-12, "{ours} vs {p}");
            }
            // It learned the interaction a linear model cannot.
            let hits = rows
                .iter()
                .zip(&ys)
                .filter(|(r, y)| (sigmoid(m.logit(r)) >= 0.5) == **y)
                .count();
            assert!(hits as f64 / rows.len() as f64 > 0.7, "{hits}");
        }
    }

    /// Rows that probe every edge of a split: each threshold itself and its neighbours,
    /// zeros of both signs, values that count as zero, NaN and infinities, besides `rows`.
    fn probes(forest: &Forest, rows: &[Row]) -> Vec<Row> {
        let mut out = rows.to_vec();
        let specials = [
            0.0,
            -0.0,
            1e-36,
            -1e-36,
            1e-30,
            f64::NAN,
            f64::INFINITY,
            -f64::INFINITY,
        ];
        for (k, node) in forest.nodes.iter().enumerate() {
            let t = node.threshold;
            let mut r = rows[k % rows.len()];
            for (i, v) in [t, t.next_down(), t.next_up()].into_iter().enumerate() {
                r[usize::from(node.feature)] = v;
                r[(usize::from(node.feature) + 1 + i) % N_FEATURES] = specials[k % specials.len()];
                out.push(r);
            }
        }
        for (k, &v) in specials.iter().enumerate() {
            out.push([v; N_FEATURES]);
            let mut r = rows[k];
            r[k % N_FEATURES] = v;
            out.push(r);
        }
        out
    }

    fn assert_sums_are_the_walks(forest: &Forest, rows: &[Row], what: &str) {
        for r in rows {
            assert_eq!(
                forest.sum(r).to_bits(),
                forest.walk(r).to_bits(),
                "{what}: {r:?}"
            );
        }
    }

    #[test]
    fn bitmask_scoring_is_the_walk_to_the_bit() {
        let (rows, ys) = data(3_000);
        // Deeper trees than the default's 15 leaves, up to the 64 one mask holds.
        let deep = GbdtConfig {
            num_leaves: 64,
            min_data_in_leaf: 5,
            num_iterations: 40,
            ..GbdtConfig::default()
        };
        for cfg in both_binnings().into_iter().chain([deep]) {
            let m = GbdtModel::fit(&rows, &ys, cfg).expect("fit");
            assert!(bitmasks::Bitmasks::new(&m.forest).is_some(), "{cfg:?}");
            let seen: Vec<Row> = rows.iter().map(|r| binned(&m.bin_edges, r)).collect();
            assert_sums_are_the_walks(&m.forest, &probes(&m.forest, &seen), &format!("{cfg:?}"));
        }

        // LightGBM's zero-as-missing splits (default side left and right) beside ordinary
        // ones, and a single-leaf tree: x0 <= 0.5 (zero goes right) ? (x1 <= -1 (zero goes
        // left) ? a : b) : (x0 <= 2 ? c : d).
        let node = |feature, zero_missing, default_left, threshold, left, right| Node {
            feature,
            zero_missing,
            default_left,
            threshold,
            left,
            right,
        };
        let hand = Forest {
            roots: vec![0, !4, 3],
            nodes: vec![
                node(0, true, false, 0.5, 1, 2),
                node(1, true, true, -1.0, !0, !1),
                node(0, false, false, 2.0, !2, !3),
                node(2, false, true, 0.0, !5, !6),
            ],
            leaves: vec![1.0, 2.0, 4.0, 8.0, 0.125, 16.0, 32.0],
            bitmasks: Derived::default(),
        };
        hand.check().expect("a valid forest");
        assert!(bitmasks::Bitmasks::new(&hand).is_some());
        // A zero x0 goes right (to x0 <= 2, then c) though 0 <= 0.5; a zero x1 goes left.
        assert_eq!(hand.sum(&[0.0; N_FEATURES]), 4.0 + 0.125 + 16.0);
        assert_eq!(
            hand.sum(&[0.25, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]),
            1.0 + 0.125 + 32.0
        );
        assert_sums_are_the_walks(&hand, &probes(&hand, &rows), "hand-made");
    }

    #[test]
    fn forests_the_bitmasks_cannot_describe_are_walked() {
        let node = |threshold, left, right| Node {
            feature: 0,
            zero_missing: false,
            default_left: false,
            threshold,
            left,
            right,
        };
        // One tree of 65 leaves: a chain of 64 splits, each with a leaf on its left.
        let nodes: Vec<Node> = (0..64)
            .map(|k| node(f64::from(k), !k, if k < 63 { k + 1 } else { !64 }))
            .collect();
        let chain = Forest {
            roots: vec![0],
            nodes,
            leaves: (0..65).map(f64::from).collect(),
            bitmasks: Derived::default(),
        };
        chain.check().expect("a valid forest");
        assert!(bitmasks::Bitmasks::new(&chain).is_none());
        let mut r = [0.0; N_FEATURES];
        for (x, leaf) in [(-1.0, 0.0), (0.5, 1.0), (62.5, 63.0), (100.0, 64.0)] {
            r[0] = x;
            assert_eq!(chain.sum(&r), leaf);
        }
        // Two parents of one leaf (a tampered file passes the index checks so): walked.
        let shared = Forest {
            roots: vec![0],
            nodes: vec![node(0.0, 1, !0), node(1.0, !0, !1)],
            leaves: vec![1.0, 2.0],
            bitmasks: Derived::default(),
        };
        shared.check().expect("indices in range and forward");
        assert!(bitmasks::Bitmasks::new(&shared).is_none());
        r[0] = 0.5;
        assert_eq!(shared.sum(&r), 1.0);
    }

    #[test]
    fn features_are_cut_into_at_most_max_bin_quantile_bins() {
        let (rows, ys) = data(3_000);
        let m = GbdtModel::fit(&rows, &ys, GbdtConfig::default()).expect("fit");
        assert_eq!(m.bin_edges.len(), N_FEATURES);
        for (j, edges) in m.bin_edges.iter().enumerate() {
            assert_eq!(
                edges.len(),
                62,
                "feature {j}: distinct values make every cut"
            );
            let mut counts = [0usize; 63];
            for r in &rows {
                counts[binned(&m.bin_edges, r)[j] as usize] += 1;
            }
            // Equal-frequency: 3,000 rows in 63 bins, ~48 each.
            assert!(counts.iter().all(|&c| (40..=56).contains(&c)), "{counts:?}");
        }
        // Ties share a bin, and a value on a cut point is in the bin below it.
        let flat = vec![[0.5; N_FEATURES]; 100];
        assert!(bin_edges(&flat, 63).iter().all(|e| e == &vec![0.5]));
        assert_eq!(
            binned(&vec![vec![1.0, 2.0]; N_FEATURES], &[2.0; N_FEATURES])[0],
            1.0
        );
        assert_eq!(binned(&[], &[2.5; N_FEATURES]), [2.5; N_FEATURES]);
        // A model without cut points (LightGBM's bins) scores its raw values, as before.
        let raw = GbdtModel::fit(
            &rows,
            &ys,
            GbdtConfig {
                max_bin: 255,
                ..GbdtConfig::default()
            },
        )
        .expect("fit");
        assert!(raw.bin_edges.is_empty());
        let mut bad = m.clone();
        bad.bin_edges[3].reverse();
        assert!(bad.check().is_err());
        bad.bin_edges.pop();
        assert!(bad.check().is_err());
        assert!(m.check().is_ok() && raw.check().is_ok());
        // A model saved before bins were cut here reads as LightGBM's 255, without cut points.
        let mut old = serde_json::to_value(&raw).expect("serialises");
        old["config"]
            .as_object_mut()
            .expect("config")
            .remove("max_bin");
        assert!(
            old.get("bin_edges").is_none(),
            "no cut points, none written"
        );
        let read: GbdtModel = serde_json::from_value(old).expect("an old model reads");
        assert_eq!((read.config.max_bin, read.bin_edges.len()), (255, 0));
        assert_eq!(read.logit(&rows[0]), raw.logit(&rows[0]));
    }

    #[test]
    fn training_is_deterministic() {
        let (rows, ys) = data(2_000);
        let a = GbdtModel::fit(&rows, &ys, GbdtConfig::default()).expect("a");
        let b = GbdtModel::fit(&rows, &ys, GbdtConfig::default()).expect("b");
        assert_eq!(a, b);
    }

    #[test]
    fn malformed_model_text_is_an_error() {
        assert!(parse_lightgbm_model("").is_err());
        assert!(
            parse_lightgbm_model("objective=regression\nTree=0\nnum_leaves=1\nleaf_value=1\n")
                .is_err()
        );
        let one_leaf = "objective=binary sigmoid:1\nTree=0\nnum_leaves=1\nnum_cat=0\nleaf_value=0.25\nend of trees\n";
        let (trees, s) = parse_lightgbm_model(one_leaf).expect("one leaf");
        assert_eq!((trees.len(), s), (1, 1.0));
        assert_eq!(trees[0].output(&[0.0; N_FEATURES]), 0.25);
        let f = Forest::from_trees(&trees).expect("forest");
        assert_eq!(f.sum(&[0.0; N_FEATURES]), 0.25);
        let bad_child = "objective=binary sigmoid:1\nTree=0\nnum_leaves=2\nsplit_feature=0\nthreshold=0\ndecision_type=2\nleft_child=-1\nright_child=-5\nleaf_value=1 2\n";
        let (trees, _) = parse_lightgbm_model(bad_child).expect("parses");
        assert!(Forest::from_trees(&trees).is_err());
        // A cycle in a tampered file is refused, not walked forever.
        let mut cyc = f.clone();
        cyc.nodes.push(Node {
            feature: 0,
            zero_missing: false,
            default_left: false,
            threshold: 0.0,
            left: 0,
            right: -1,
        });
        cyc.roots = vec![0];
        assert!(cyc.check().is_err());
    }
}
