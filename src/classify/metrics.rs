//! Scores of predictions against labels: what `verbatim eval` prints.
//!
//! Single-label (sentiment): accuracy, macro-F1 and per-class precision,
//! recall and F1 from a confusion table. Multi-label (topics): micro-averaged
//! precision, recall and F1 over (row, label) pairs, and the same per label.
//! A class with no true and no predicted rows has F1 0 in the macro mean
//! (as scikit-learn's default), so a method cannot look better by never
//! predicting a class.

use std::collections::BTreeSet;

use serde::Serialize;

/// Precision, recall and F1 of one class or label.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClassScore {
    pub label: String,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Rows whose true label is this one.
    pub support: u64,
    /// Rows predicted as this one.
    pub predicted: u64,
}

/// Precision, recall and F1 of `tp` true positives, `fp` false positives
/// and `fn_` false negatives; 0 where a ratio is undefined.
pub fn prf(tp: u64, fp: u64, fn_: u64) -> (f64, f64, f64) {
    let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    let p = ratio(tp, tp + fp);
    let r = ratio(tp, tp + fn_);
    let f = ratio(2 * tp, 2 * tp + fp + fn_);
    (p, r, f)
}

/// Counts of (true label, predicted label).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Confusion {
    pub labels: Vec<String>,
    /// `counts[t][p]`: rows of true label `t` predicted as `p`.
    pub counts: Vec<Vec<u64>>,
}

impl Confusion {
    /// An empty table over these labels, in this order.
    pub fn new(labels: &[&str]) -> Confusion {
        Confusion {
            labels: labels.iter().map(|s| s.to_string()).collect(),
            counts: vec![vec![0; labels.len()]; labels.len()],
        }
    }

    /// One row: indices into `labels`.
    pub fn add(&mut self, truth: usize, pred: usize) {
        self.counts[truth][pred] += 1;
    }

    /// Rows counted.
    pub fn total(&self) -> u64 {
        self.counts.iter().flatten().sum()
    }

    /// Share of rows on the diagonal; 0 for an empty table.
    pub fn accuracy(&self) -> f64 {
        let diag: u64 = (0..self.labels.len()).map(|i| self.counts[i][i]).sum();
        let n = self.total();
        if n == 0 {
            0.0
        } else {
            diag as f64 / n as f64
        }
    }

    /// One score per label, in label order.
    pub fn per_class(&self) -> Vec<ClassScore> {
        let k = self.labels.len();
        (0..k)
            .map(|c| {
                let tp = self.counts[c][c];
                let support: u64 = self.counts[c].iter().sum();
                let predicted: u64 = (0..k).map(|t| self.counts[t][c]).sum();
                let (precision, recall, f1) = prf(tp, predicted - tp, support - tp);
                ClassScore {
                    label: self.labels[c].clone(),
                    precision,
                    recall,
                    f1,
                    support,
                    predicted,
                }
            })
            .collect()
    }

    /// Unweighted mean of the per-class F1.
    pub fn macro_f1(&self) -> f64 {
        let s = self.per_class();
        if s.is_empty() {
            return 0.0;
        }
        s.iter().map(|c| c.f1).sum::<f64>() / s.len() as f64
    }

    /// The table as CSV: `true_label,pred_<label>…`.
    pub fn to_csv(&self) -> String {
        let mut s = String::from("true_label");
        for l in &self.labels {
            s.push_str(&format!(",pred_{l}"));
        }
        s.push('\n');
        for (l, row) in self.labels.iter().zip(&self.counts) {
            s.push_str(l);
            for c in row {
                s.push_str(&format!(",{c}"));
            }
            s.push('\n');
        }
        s
    }
}

/// Multi-label scores.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MultiLabelScore {
    pub micro_precision: f64,
    pub micro_recall: f64,
    pub micro_f1: f64,
    /// Rows whose predicted set equals the true set.
    pub exact_match: f64,
    pub per_label: Vec<ClassScore>,
}

impl MultiLabelScore {
    /// Unweighted mean F1 over the labels that occur in the truth (support
    /// above 0); 0 when none does. A label that is only predicted lowers the
    /// micro scores, not this mean.
    pub fn macro_f1_supported(&self) -> f64 {
        let f: Vec<f64> = self
            .per_label
            .iter()
            .filter(|s| s.support > 0)
            .map(|s| s.f1)
            .collect();
        if f.is_empty() {
            0.0
        } else {
            f.iter().sum::<f64>() / f.len() as f64
        }
    }
}

/// Scores predicted label sets against true ones (same length).
/// F-β = (1 + β²)·tp / ((1 + β²)·tp + β²·fn + fp) from counts: β = 1 is F1,
/// β < 1 weighs precision more (recall counts β times as much). 0 without
/// a true positive.
pub fn f_beta(tp: usize, fp: usize, fn_: usize, beta: f64) -> f64 {
    if tp == 0 {
        return 0.0;
    }
    let b2 = beta * beta;
    let tp_w = (1.0 + b2) * tp as f64;
    tp_w / (tp_w + b2 * fn_ as f64 + fp as f64)
}

pub fn multilabel(truth: &[BTreeSet<String>], pred: &[BTreeSet<String>]) -> MultiLabelScore {
    assert_eq!(truth.len(), pred.len(), "one prediction per row");
    let labels: BTreeSet<&String> = truth.iter().chain(pred).flatten().collect();
    let (mut tp, mut fp, mut fn_) = (0, 0, 0);
    let mut per_label = Vec::new();
    for l in &labels {
        let (mut a, mut b, mut c) = (0u64, 0u64, 0u64);
        for (t, p) in truth.iter().zip(pred) {
            match (t.contains(*l), p.contains(*l)) {
                (true, true) => a += 1,
                (false, true) => b += 1,
                (true, false) => c += 1,
                _ => {}
            }
        }
        tp += a;
        fp += b;
        fn_ += c;
        let (precision, recall, f1) = prf(a, b, c);
        per_label.push(ClassScore {
            label: l.to_string(),
            precision,
            recall,
            f1,
            support: a + c,
            predicted: a + b,
        });
    }
    let (micro_precision, micro_recall, micro_f1) = prf(tp, fp, fn_);
    let exact = truth.iter().zip(pred).filter(|(t, p)| t == p).count();
    MultiLabelScore {
        micro_precision,
        micro_recall,
        micro_f1,
        exact_match: if truth.is_empty() {
            0.0
        } else {
            exact as f64 / truth.len() as f64
        },
        per_label,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confusion_scores_by_hand() {
        let mut c = Confusion::new(&["neg", "neu", "pos"]);
        // truth neg: 3 right, 1 as pos; truth neu: 1 right, 1 as neg;
        // truth pos: 2 right.
        for (t, p) in [
            (0, 0),
            (0, 0),
            (0, 0),
            (0, 2),
            (1, 1),
            (1, 0),
            (2, 2),
            (2, 2),
        ] {
            c.add(t, p);
        }
        assert_eq!(c.total(), 8);
        assert!((c.accuracy() - 6.0 / 8.0).abs() < 1e-12);
        let s = c.per_class();
        // neg: tp 3, fp 1, fn 1 -> p .75 r .75 f .75
        assert!((s[0].precision - 0.75).abs() < 1e-12 && (s[0].recall - 0.75).abs() < 1e-12);
        // neu: tp 1, fp 0, fn 1 -> p 1, r .5, f 2/3
        assert!((s[1].f1 - 2.0 / 3.0).abs() < 1e-12);
        // pos: tp 2, fp 1, fn 0 -> f 0.8
        assert!((s[2].f1 - 0.8).abs() < 1e-12);
        assert!((c.macro_f1() - (0.75 + 2.0 / 3.0 + 0.8) / 3.0).abs() < 1e-12);
        assert_eq!(
            c.to_csv(),
            "true_label,pred_neg,pred_neu,pred_pos\nneg,3,0,1\nneu,1,1,0\npos,0,0,2\n"
        );
    }

    #[test]
    fn a_never_predicted_class_scores_zero() {
        let mut c = Confusion::new(&["a", "b"]);
        c.add(0, 0);
        c.add(1, 0);
        // a: tp 1 fp 1 -> f 2/3; b: tp 0 -> 0
        assert!((c.macro_f1() - 1.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn multilabel_micro_by_hand() {
        let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
        let truth = vec![set(&["a", "b"]), set(&["a"]), set(&[])];
        let pred = vec![set(&["a"]), set(&["a", "c"]), set(&[])];
        let m = multilabel(&truth, &pred);
        // tp 2 (a,a), fp 1 (c), fn 1 (b)
        assert!((m.micro_precision - 2.0 / 3.0).abs() < 1e-12);
        assert!((m.micro_recall - 2.0 / 3.0).abs() < 1e-12);
        assert!((m.exact_match - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(m.per_label.len(), 3);
        // a: tp 2 -> F1 1; b: tp 0, fn 1 -> 0; c is only predicted.
        assert!((m.macro_f1_supported() - 0.5).abs() < 1e-12);
    }
}
