//! Spreadsheet exports end to end: an `.xlsx` made here with
//! rust_xlsxwriter is analysed like its CSV would be, with rejects on the
//! row numbers the spreadsheet shows, dates from date cells, the sheet
//! chosen by `--sheet`, and the workbook's own checksum in the manifest.

mod common;
#[path = "common/workdir.rs"]
mod workdir;

use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
use sha2::{Digest, Sha256};
use workdir::{show, Workdir};

/// Id, score, comment, (year, month, day, hour, minute), channel.
type Row<'a> = (&'a str, f64, &'a str, (u16, u8, u8, u8, u8), &'a str);

/// A workbook: sheet `Responses` (a title row, an empty row, the header on
/// row 3, then data with a bad score on row 6 and an empty row 8) and sheet
/// `Other` (two rows).
fn workbook(path: &std::path::Path) {
    let mut book = Workbook::new();
    let date = Format::new().set_num_format("dd/mm/yyyy hh:mm");
    let s = book.add_worksheet().set_name("Responses").unwrap();
    s.write_string(0, 0, "NPS export, April").unwrap();
    for (c, h) in [
        "RESPONSE_ID",
        "NPS_SCORE",
        "WHY",
        "CUSTOMER_RESPONSE_DATE",
        "CHANNEL",
    ]
    .iter()
    .enumerate()
    {
        s.write_string(2, c as u16, *h).unwrap();
    }
    let rows: [Row; 5] = [
        ("r1", 9.0, "friendly agent", (2018, 4, 11, 20, 9), "phone"),
        (
            "r2",
            3.0,
            "waited 40 minutes\non hold",
            (2018, 4, 12, 8, 0),
            "chat",
        ),
        (
            "r3",
            11.0,
            "score out of range",
            (2018, 4, 12, 9, 0),
            "chat",
        ),
        ("r4", 10.0, "great", (2018, 4, 13, 0, 0), "phone"),
        ("r5", 7.0, "ok", (2018, 4, 20, 17, 45), "e-mail"),
    ];
    let mut row = 3u32;
    for (id, score, why, (y, mo, d, h, mi), channel) in rows {
        if row == 7 {
            row += 1; // an empty row: Excel's row 8
        }
        s.write_string(row, 0, id).unwrap();
        s.write_number(row, 1, score).unwrap();
        s.write_string(row, 2, why).unwrap();
        let when = ExcelDateTime::from_ymd(y, mo, d)
            .unwrap()
            .and_hms(u16::from(h), mi, 0)
            .unwrap();
        s.write_datetime_with_format(row, 3, &when, &date).unwrap();
        s.write_string(row, 4, channel).unwrap();
        row += 1;
    }
    let o = book.add_worksheet().set_name("Other").unwrap();
    o.write_string(0, 0, "score").unwrap();
    o.write_string(0, 1, "comment").unwrap();
    o.write_number(1, 0, 2.0).unwrap();
    o.write_string(1, 1, "never again").unwrap();
    book.save(path).unwrap();
}

fn csv_rows(path: &std::path::Path) -> (csv::StringRecord, Vec<csv::StringRecord>) {
    let mut r = csv::Reader::from_path(path).expect("csv");
    let header = r.headers().unwrap().clone();
    (header, r.records().map(|x| x.unwrap()).collect())
}

#[test]
fn an_xlsx_export_is_read_like_its_csv() {
    let w = Workdir::new();
    let xlsx = w.path("export.xlsx");
    workbook(&xlsx);
    let o = w.analyze(&xlsx, "out", &[]);
    assert!(o.status.success(), "{}", show(&o));
    let m = w.manifest("out");
    assert_eq!(m["input"]["format"], "xlsx");
    assert_eq!(m["input"]["sheet"], "Responses");
    let sha = format!("{:x}", Sha256::digest(std::fs::read(&xlsx).unwrap()));
    assert_eq!(m["input"]["sha256"], sha.as_str());
    assert_eq!(m["counts"]["read"], 5);
    assert_eq!(m["counts"]["analysed"], 4);
    assert_eq!(m["counts"]["rejected"], 1);
    assert_eq!(m["input"]["score_column"], "NPS_SCORE");
    assert_eq!(m["input"]["date_column"], "CUSTOMER_RESPONSE_DATE");
    // The reject is on the row the spreadsheet shows.
    let (_, rejects) = csv_rows(&w.path("out/rejects.csv"));
    assert_eq!(rejects.len(), 1);
    assert_eq!(&rejects[0][1], "6", "{:?}", rejects[0]);
    assert!(rejects[0][3].contains("out of range"), "{:?}", rejects[0]);
    let (header, facts) = csv_rows(&w.path("out/fact_response.csv"));
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let got: Vec<(&str, &str, &str, &str)> = facts
        .iter()
        .map(|r| {
            (
                &r[col("response_id")],
                &r[col("source_line")],
                &r[col("score")],
                &r[col("responded_at")],
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("r1", "4", "9", "2018-04-11T20:09:00Z"),
            ("r2", "5", "3", "2018-04-12T08:00:00Z"),
            ("r4", "7", "10", ""),
            ("r5", "9", "7", "2018-04-20T17:45:00Z"),
        ]
    );
    assert_eq!(&facts[2][col("response_date")], "2018-04-13");
    assert_eq!(&facts[3][col("segment_channel")], "e-mail");
    assert!(
        w.listing()
            .iter()
            .all(|n| !n.starts_with(".verbatim-input-")),
        "{:?}",
        w.listing()
    );
}

#[test]
fn sheet_chooses_the_sheet_and_names_the_others_when_wrong() {
    let w = Workdir::new();
    let xlsx = w.path("export.xlsx");
    workbook(&xlsx);
    let o = w.analyze(&xlsx, "other", &["--sheet", "other"]);
    assert!(o.status.success(), "{}", show(&o));
    let m = w.manifest("other");
    assert_eq!(m["input"]["sheet"], "Other");
    assert_eq!(m["counts"]["analysed"], 1);
    let o = w.analyze(&xlsx, "none", &["--sheet", "Nope"]);
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("--sheet `Nope` not found; the sheets are: Responses, Other"),
        "{err}"
    );
    // --sheet on a CSV is a usage error.
    let csv = w.write("x.csv", "score,comment\n9,good\n");
    let o = w.analyze(&csv, "csv", &["--sheet", "A"]);
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    // A workbook that is no workbook is named.
    let bad = w.write("bad.xlsx", "score,comment\n9,good\n");
    let o = w.analyze(&bad, "bad", &[]);
    assert_eq!(o.status.code(), Some(4), "{}", show(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("bad.xlsx: not a readable spreadsheet"),
        "{}",
        show(&o)
    );
    assert!(
        w.listing()
            .iter()
            .all(|n| !n.starts_with(".verbatim-input-")),
        "{:?}",
        w.listing()
    );
}
