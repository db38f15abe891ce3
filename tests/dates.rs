//! The date column of real exports, end to end through the binary on the
//! tiny model: found by name or by content, its format decided from the
//! whole column (day first, month first, Excel serials, Unix seconds,
//! `--date-format`), values it does not read counted and reported, an
//! ambiguous column refused with a message that names it; and column names
//! of every header style turned into one snake_case spelling.

mod common;
#[path = "common/workdir.rs"]
mod workdir;

use workdir::{show, Workdir};

/// `fact_response.csv`'s `column` values, in input order.
fn fact_column(w: &Workdir, out: &str, column: &str) -> Vec<String> {
    let mut r = csv::Reader::from_path(w.path(out).join("fact_response.csv")).expect("fact csv");
    let i = r
        .headers()
        .expect("header")
        .iter()
        .position(|h| h == column)
        .unwrap_or_else(|| panic!("no column {column}"));
    r.records()
        .map(|rec| rec.expect("row")[i].to_string())
        .collect()
}

/// An export whose header is `header` (score and comment first) and whose
/// rows carry `dates`, one per row.
fn export(w: &Workdir, name: &str, header: &str, dates: &[&str]) -> std::path::PathBuf {
    let mut s = format!("{header}\n");
    for (i, d) in dates.iter().enumerate() {
        let comment = if i % 2 == 0 {
            "friendly agent"
        } else {
            "waited too long"
        };
        s.push_str(&format!("{},{comment},\"{d}\",phone\n", i % 11));
    }
    w.write(name, s)
}

#[test]
fn day_first_and_month_first_columns_are_read_by_their_values() {
    let w = Workdir::new();
    let header = "NPS_SCORE,WHY,CUSTOMER_RESPONSE_DATE,CHANNEL";
    let cases: [(&str, &[&str], &str, &[&str]); 6] = [
        (
            "uk",
            &["11/04/2018 20:09", "13/04/2018 08:00", "02/05/18"],
            "dmy",
            &["2018-04-11", "2018-04-13", "2018-05-02"],
        ),
        (
            "us",
            &["04/11/2018 8:09 PM", "4/13/2018", "05/02/2018 23:59"],
            "mdy",
            &["2018-04-11", "2018-04-13", "2018-05-02"],
        ),
        (
            "de",
            &["11.04.2018", "12.04.2018 14:05", "1.5.18"],
            "dmy",
            &["2018-04-11", "2018-04-12", "2018-05-01"],
        ),
        (
            "iso",
            &[
                "2018-04-11T20:09:00+02:00",
                "2018-04-12",
                "2018-04-13 10:00:00",
            ],
            "dmy",
            &["2018-04-11", "2018-04-12", "2018-04-13"],
        ),
        (
            "excel",
            &["43201.84", "43202", "43203.5"],
            "excel",
            &["2018-04-11", "2018-04-12", "2018-04-13"],
        ),
        (
            "unix",
            &["1523477376", "1523563776", "1523650176"],
            "unix",
            &["2018-04-11", "2018-04-12", "2018-04-13"],
        ),
    ];
    for (name, dates, format, want) in cases {
        let input = export(&w, &format!("{name}.csv"), header, dates);
        let o = w.analyze(&input, name, &[]);
        assert!(o.status.success(), "{name}: {}", show(&o));
        assert_eq!(fact_column(&w, name, "response_date"), want, "{name}");
        let m = w.manifest(name);
        assert_eq!(
            m["input"]["date_column"], "CUSTOMER_RESPONSE_DATE",
            "{name}"
        );
        assert_eq!(m["input"]["date_column_found_by"], "name_like", "{name}");
        assert_eq!(m["input"]["date_format"], format, "{name}");
        assert_eq!(m["counts"]["unparsed_dates"], 0, "{name}");
        // The column is no segment, and the other headers are snake case.
        let outputs: Vec<&str> = m["input"]["segment_column_names"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|c| c["output"].as_str())
            .collect();
        assert_eq!(outputs, ["segment_channel"], "{name}");
    }
    // The time of day is kept where there is one.
    assert_eq!(
        fact_column(&w, "us", "responded_at")[0],
        "2018-04-11T20:09:00Z"
    );
}

#[test]
fn a_value_the_format_does_not_read_is_counted_and_reported() {
    let w = Workdir::new();
    let input = export(
        &w,
        "x.csv",
        "score,comment,Datum,channel",
        &["13/04/2018", "31/02/2018", "soon", "14/04/2018"],
    );
    let o = w.analyze(&input, "out", &[]);
    assert!(o.status.success(), "{}", show(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("2 values of the date column `Datum` are no date in the format dmy")
            && err.contains("`31/02/2018` on line 3"),
        "{err}"
    );
    assert_eq!(
        fact_column(&w, "out", "response_date"),
        ["2018-04-13", "", "", "2018-04-14"]
    );
    let m = w.manifest("out");
    assert_eq!(m["counts"]["unparsed_dates"], 2);
    assert_eq!(m["input"]["first_unparsed_date"]["line"], 3);
    assert_eq!(m["input"]["first_unparsed_date"]["value"], "31/02/2018");
}

#[test]
fn an_undecidable_column_is_refused_until_date_format_says() {
    let w = Workdir::new();
    let input = export(
        &w,
        "amb.csv",
        "score,comment,date,channel",
        &["04/05/2018", "05/04/2018", "06/04/2018"],
    );
    let o = w.analyze(&input, "out", &[]);
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("amb.csv")
            && err.contains("`date`")
            && err.contains("`04/05/2018` (line 2)")
            && err.contains("--date-format"),
        "{err}"
    );
    assert!(!w.path("out").exists(), "no output folder after a refusal");
    for (flag, want) in [
        ("mdy", ["2018-04-05", "2018-05-04", "2018-06-04"]),
        ("dmy", ["2018-05-04", "2018-04-05", "2018-04-06"]),
    ] {
        let out = format!("out_{flag}");
        let o = w.analyze(&input, &out, &["--date-format", flag]);
        assert!(o.status.success(), "{flag}: {}", show(&o));
        assert_eq!(fact_column(&w, &out, "response_date"), want, "{flag}");
        let m = w.manifest(&out);
        assert_eq!(m["input"]["date_format"], flag);
        assert_eq!(m["input"]["date_format_decided_by"], "flag");
    }
    // A strftime pattern, and a bad flag named as such.
    let input = export(
        &w,
        "p.csv",
        "score,comment,when,channel",
        &["20180413", "20180414"],
    );
    let o = w.analyze(
        &input,
        "pat",
        &["--date-column", "when", "--date-format", "%Y%m%d"],
    );
    assert!(o.status.success(), "{}", show(&o));
    assert_eq!(
        fact_column(&w, "pat", "response_date"),
        ["2018-04-13", "2018-04-14"]
    );
    let o = w.analyze(&input, "bad", &["--date-format", "yyyy"]);
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--date-format `yyyy`"));
}

#[test]
fn a_time_column_of_plain_numbers_is_no_date_column() {
    // Milliseconds in the range of Excel serials (20,000–80,000): under a
    // name ending in `time` they are durations; under `created_at` dates.
    let w = Workdir::new();
    let ms = ["31200", "45000", "62480", "75001"];
    let input = export(&w, "t.csv", "score,comment,HANDLE_TIME,channel", &ms);
    let o = w.analyze(&input, "out", &[]);
    assert!(o.status.success(), "{}", show(&o));
    assert!(
        !String::from_utf8_lossy(&o.stderr).contains("taken as the date column"),
        "{}",
        show(&o)
    );
    let m = w.manifest("out");
    assert!(m["input"]["date_column"].is_null(), "{m:#}");
    assert!(m["input"]["date_format"].is_null(), "{m:#}");

    let input = export(&w, "c.csv", "score,comment,created_at,channel", &ms);
    let o = w.analyze(&input, "created", &[]);
    assert!(o.status.success(), "{}", show(&o));
    let m = w.manifest("created");
    assert_eq!(m["input"]["date_column"], "created_at");
    assert_eq!(m["input"]["date_format"], "excel");
    assert_eq!(fact_column(&w, "created", "response_date")[0], "1985-06-02");
}

#[test]
fn a_date_column_without_a_date_name_is_found_by_its_values() {
    let w = Workdir::new();
    let input = export(
        &w,
        "c.csv",
        "score,comment,Eingegangen,Kanal",
        &["11.04.2018", "12.04.2018", "13.04.2018", "14.04.2018"],
    );
    let o = w.analyze(&input, "out", &[]);
    assert!(o.status.success(), "{}", show(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("`Eingegangen` is taken as the date column"),
        "{}",
        show(&o)
    );
    let m = w.manifest("out");
    assert_eq!(m["input"]["date_column"], "Eingegangen");
    assert_eq!(m["input"]["date_column_found_by"], "content");
    assert_eq!(fact_column(&w, "out", "response_date")[3], "2018-04-14");
}

#[test]
fn headers_of_every_style_become_one_snake_case_spelling() {
    let w = Workdir::new();
    let input = w.write(
        "h.csv",
        "score,comment,CONTACT_CHANNEL,agentTeam,Région du client,NPSQueue,Contact Channel\n\
         9,great,phone,a,Nord,q1,x\n3,slow,chat,b,Süd,q2,y\n",
    );
    let o = w.analyze(&input, "out", &[]);
    assert!(o.status.success(), "{}", show(&o));
    let m = w.manifest("out");
    let names: Vec<(String, String)> = m["input"]["segment_column_names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["header"].as_str().unwrap().to_string(),
                c["output"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want = [
        ("CONTACT_CHANNEL", "segment_contact_channel"),
        ("agentTeam", "segment_agent_team"),
        ("Région du client", "segment_region_du_client"),
        ("NPSQueue", "segment_nps_queue"),
        ("Contact Channel", "segment_contact_channel_2"),
    ];
    let want: Vec<(String, String)> = want
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(names, want);
    let header = csv::Reader::from_path(w.path("out/fact_response.csv"))
        .unwrap()
        .headers()
        .unwrap()
        .clone();
    for (_, output) in &want {
        assert!(header.iter().any(|h| h == output), "{output} in {header:?}");
    }
}
