//! `--survey employee` end to end on the tiny model: the employee taxonomy,
//! no follow-up list, and the figures of every group below `--min-n`
//! withheld (not only flagged) in `agg_nps` and `segment_driver`, while a
//! customer run of the same export keeps them.

mod common;
#[path = "common/workdir.rs"]
mod workdir;

use workdir::{show, Workdir};

/// 12 answers: an `employee_id` per person, team `big` (10 people) and
/// team `small` (2).
fn export(w: &Workdir) -> std::path::PathBuf {
    let mut s = String::from("employee_id,score,comment,team\n");
    let comments = [
        "my manager listens to me",
        "pay is too low",
        "great colleagues",
        "too much workload",
    ];
    for i in 0..12 {
        let team = if i < 10 { "big" } else { "small" };
        let score = [10, 3, 9, 6, 8, 10, 2, 9, 7, 5, 0, 1][i];
        s.push_str(&format!("E{i:03},{score},{},{team}\n", comments[i % 4]));
    }
    w.write("enps.csv", s)
}

fn rows(w: &Workdir, out: &str, table: &str) -> Vec<std::collections::HashMap<String, String>> {
    let mut r = csv::Reader::from_path(w.path(out).join(format!("{table}.csv"))).unwrap();
    let header = r.headers().unwrap().clone();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            header
                .iter()
                .zip(rec.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

#[test]
fn an_employee_survey_withholds_small_groups_and_calls_no_one_back() {
    let w = Workdir::new();
    let input = export(&w);
    let min_n = [
        "--min-n",
        "3",
        "--segment-column",
        "team",
        "--segment-column",
        "employee_id",
    ];
    let o = w.analyze(
        &input,
        "emp",
        &[&["--survey", "employee"][..], &min_n].concat(),
    );
    assert!(o.status.success(), "{}", show(&o));
    let o2 = w.analyze(&input, "cust", &min_n);
    assert!(o2.status.success(), "{}", show(&o2));

    let m = w.manifest("emp");
    assert_eq!(m["settings"]["survey"], "employee");
    assert_eq!(w.manifest("cust")["settings"]["survey"], "customer");
    // The shipped calibrations are for the installed model, not the tiny
    // one: the similarity rule decides, and the manifest says no calibration
    // fits the employee taxonomy and these weights (tests/real_model.rs
    // checks that the installed model gets the employee calibration).
    assert_eq!(m["topics"]["rule"], "similarity");
    assert_eq!(m["topics"]["calibration"]["kind"], "none");
    let reason = m["topics"]["calibration"]["reason"].as_str().unwrap();
    assert!(reason.contains("taxonomy `employee`"), "{reason}");
    // The employee taxonomy by default.
    let topics: Vec<String> = rows(&w, "emp", "dim_topic")
        .iter()
        .map(|r| r["topic_id"].clone())
        .collect();
    assert!(topics.iter().any(|t| t == "manager_support"), "{topics:?}");
    assert!(!topics.iter().any(|t| t == "billing"), "{topics:?}");
    // No call-back list.
    assert!(rows(&w, "emp", "followup").is_empty());
    assert!(!rows(&w, "cust", "followup").is_empty());

    let find = |out: &str, column: &str, value: &str| {
        rows(&w, out, "agg_nps")
            .into_iter()
            .find(|r| {
                r["segment_column"] == column
                    && r["segment_value"] == value
                    && r["period"].is_empty()
            })
            .unwrap_or_else(|| panic!("{out}: no row {column}={value}"))
    };
    // One person, and the small team: n kept, every other figure empty.
    for (column, value, n) in [("employee_id", "E003", "1"), ("team", "small", "2")] {
        let e = find("emp", column, value);
        assert_eq!(e["n"], n);
        assert_eq!(e["suppressed"], "true");
        for f in [
            "promoters",
            "passives",
            "detractors",
            "nps",
            "nps_ci_low",
            "nps_ci_high",
            "diff",
            "z",
            "p_value",
        ] {
            assert_eq!(e[f], "", "{column}={value}: {f} should be withheld");
        }
        let c = find("cust", column, value);
        assert_ne!(
            c["nps"], "",
            "a customer run keeps {column}={value}'s figures"
        );
        assert_ne!(c["promoters"], "");
    }
    // The big team and the whole run keep theirs.
    let big = find("emp", "team", "big");
    assert_eq!(big["n"], "10");
    assert_eq!(big["nps"], find("cust", "team", "big")["nps"]);
    let whole = find("emp", "", "");
    assert_eq!(whole["n"], "12");
    assert_ne!(whole["nps"], "");
    // segment_driver: rows of the small team keep n, lose the rest.
    let seg = rows(&w, "emp", "segment_driver");
    let small: Vec<_> = seg
        .iter()
        .filter(|r| r["segment_value"] == "small")
        .collect();
    assert!(!small.is_empty());
    for r in small {
        assert_eq!(r["n"], "2");
        for f in [
            "mentions",
            "mentions_rest",
            "impact",
            "impact_rest",
            "diff",
            "se",
            "z",
            "p_value",
        ] {
            assert_eq!(r[f], "", "segment_driver small/{}: {f}", r["topic_id"]);
        }
    }
    // The wording: eNPS in the console and the report, no call-back list.
    let out = String::from_utf8_lossy(&o.stdout);
    let report = std::fs::read_to_string(w.path("emp/report.html")).unwrap();
    let cust_report = std::fs::read_to_string(w.path("cust/report.html")).unwrap();
    assert!(
        out.contains("eNPS ") && !out.contains("follow-ups"),
        "{out}"
    );
    assert!(String::from_utf8_lossy(&o2.stdout).contains("follow-ups"));
    assert!(report.contains("<title>What drives eNPS"), "title");
    assert!(report.contains("eNPS is <strong>"), "headline");
    assert!(!report.contains("to call back") && !report.contains(" NPS "));
    assert!(cust_report.contains("to call back") && !cust_report.contains("eNPS"));
    let cust_small = rows(&w, "cust", "segment_driver");
    assert!(cust_small
        .iter()
        .any(|r| r["segment_value"] == "small" && !r["mentions"].is_empty()));
}
