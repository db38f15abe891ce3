//! Hostile inputs and environments, through the real binary with a tiny
//! model: each one ends in a reject with its line and reason, or in a clear
//! error that names the file, the line or the flag, with the documented exit
//! code (`src/exit_codes.rs`, README), and never in a panic, a crash, a
//! runaway in memory or time, a half-written output folder or a file
//! written outside it.
//!
//! Permissions are tested honestly even as root (CI runs as root, and root
//! ignores file modes): the child is started with `CAP_DAC_OVERRIDE` and
//! `CAP_DAC_READ_SEARCH` dropped from its capability bounding set, so the
//! modes apply to it as to any user; each such test first checks that this
//! worked. A full disk is a file size limit (`RLIMIT_FSIZE`) on the child
//! with `SIGXFSZ` ignored, so that writes past it fail with `EFBIG`, as
//! writes on a full disk fail with `ENOSPC`.

mod common;
#[path = "common/workdir.rs"]
mod workdir;

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Output};

use verbatim::exit_codes::ExitCode;
use workdir::{show, Workdir};

/// The shared work folder; every run with one thread.
struct Work(Workdir);

impl std::ops::Deref for Work {
    type Target = Workdir;
    fn deref(&self) -> &Workdir {
        &self.0
    }
}

impl Work {
    fn new() -> Work {
        Work(Workdir::new())
    }

    /// `verbatim analyze INPUT --out OUT --model model` plus `extra`.
    fn command(&self, input: &Path, out: &str, extra: &[&str]) -> Command {
        let mut c = self.0.analyze_command(input, out, &["--threads", "1"]);
        c.args(extra);
        c
    }

    fn analyze(&self, input: &Path, out: &str, extra: &[&str]) -> Output {
        self.command(input, out, extra)
            .output()
            .expect("run verbatim")
    }
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts the exit code and that stderr holds every needle.
fn expect_error(o: &Output, code: ExitCode, needles: &[&str]) {
    assert_eq!(o.status.code(), Some(code as i32), "{}", show(o));
    let err = stderr(o);
    assert!(err.starts_with("error: "), "{}", show(o));
    assert!(!err.contains("panicked"), "{}", show(o));
    for n in needles {
        assert!(err.contains(n), "stderr should name {n:?}:\n{}", show(o));
    }
}

fn rejects(out: &Path) -> Vec<csv::StringRecord> {
    let mut r = csv::Reader::from_path(out.join("rejects.csv")).expect("rejects.csv");
    r.records().map(|x| x.expect("reject row")).collect()
}

fn manifest(out: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(out.join("manifest.json")).expect("manifest.json");
    serde_json::from_str(&text).expect("manifest is JSON")
}

/// Every file under `dir`, relative, sorted.
fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p
                    .strip_prefix(dir)
                    .expect("under dir")
                    .display()
                    .to_string();
                files.push((rel, std::fs::read(&p).expect("read file")));
            }
        }
    }
    files.sort();
    files
}

const GOOD: &str = "id,score,comment,channel\n\
                    a1,9,the agent was friendly,phone\n\
                    a2,2,waited on hold an hour,chat\n\
                    a3,10,great service,phone\n\
                    a4,5,invoice wrong,chat\n";

/// Makes the child see file modes as an ordinary user would (see the
/// module documentation). Outside root this is a no-op: modes apply anyway.
fn without_dac_override(c: &mut Command) -> &mut Command {
    // SAFETY: only async-signal-safe calls (geteuid, prctl) between fork and exec.
    unsafe {
        c.pre_exec(|| {
            if libc::geteuid() == 0 {
                for cap in [1, 2] {
                    // CAP_DAC_OVERRIDE = 1, CAP_DAC_READ_SEARCH = 2.
                    if libc::prctl(libc::PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                }
            }
            Ok(())
        })
    }
}

/// Fails the test loudly if a child without DAC override can still write
/// into `dir` (the environment would make the permission test vacuous).
fn assert_modes_apply(dir: &Path) {
    let probe = dir.join("probe");
    let o = without_dac_override(Command::new("touch").arg(&probe))
        .output()
        .expect("run touch");
    assert!(
        !o.status.success() && !probe.exists(),
        "a child without CAP_DAC_OVERRIDE could still write into the read-only {}; \
         this environment cannot test permissions",
        dir.display()
    );
}

#[test]
fn a_ten_megabyte_comment_is_cut_not_fatal_and_stays_bounded() {
    let w = Work::new();
    // 10 MB of short, distinct sentences (identical texts would be embedded
    // once): uncut, the clause splitter makes about 450,000 clauses of
    // them, each embedded.
    let mut comment = String::with_capacity(10 << 20);
    let mut i = 0u64;
    while comment.len() < 10 << 20 {
        comment.push_str(&format!(
            "the agent {i} was friendly. waited {i} on hold but great service! "
        ));
        i += 1;
    }
    let mut data = format!("id,score,comment\nbig,3,\"{comment}\"\n").into_bytes();
    data.extend_from_slice(b"small,9,the agent was friendly\n");
    let input = w.write("big.csv", &data);
    let o = w.analyze(&input, "out", &[]);
    assert!(o.status.success(), "{}", show(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("read 2 = analysed 2 + rejected 0"),
        "{}",
        show(&o)
    );
    assert!(stderr(&o).contains("1 comments longer than 10000 characters were cut"));
    // The first 10,000 characters hold about 10000 / 75 * 3 = 400 clauses
    // (75 characters and 3 clauses a sentence): the work is bounded by the
    // cut, not by the comment.
    let m = manifest(&w.path("out"));
    let embedded = m["timings"]["texts_embedded"].as_u64().unwrap_or(u64::MAX);
    assert!(
        embedded < 1_000,
        "{embedded} texts embedded for a 10 MB comment"
    );
}

#[test]
fn a_million_column_header_is_refused_with_the_limit() {
    let w = Work::new();
    let mut header = String::from("score,comment");
    for i in 0..1_000_000 {
        header.push_str(&format!(",c{i}"));
    }
    let input = w.write(
        "wide.csv",
        format!("{header}\n9,ok{}\n", ",".repeat(1_000_000)),
    );
    let o = w.analyze(&input, "out", &[]);
    expect_error(
        &o,
        ExitCode::Input,
        &["wide.csv", "1000002 columns", "16384"],
    );
    // The message does not echo a million names.
    assert!(
        stderr(&o).len() < 2_000,
        "{} bytes of error",
        stderr(&o).len()
    );
    assert!(!w.path("out").exists());
}

#[test]
fn a_nul_byte_in_a_row_is_a_reject_and_in_the_header_an_error() {
    let w = Work::new();
    let input = w.write(
        "nul.csv",
        b"id,score,comment\na1,9,fine\na2,3,bro\0ken\na3,7,ok\n".as_slice(),
    );
    let o = w.analyze(&input, "out", &[]);
    assert!(o.status.success(), "{}", show(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("read 3 = analysed 2 + rejected 1"));
    let r = rejects(&w.path("out"));
    assert_eq!((&r[0][1], &r[0][2]), ("3", "comment"), "{r:?}");
    assert!(r[0][3].contains("NUL byte"), "{r:?}");

    // UTF-16 saved without a byte-order mark looks like text with NULs.
    let utf16: Vec<u8> = "score,comment\n9,ok\n"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    let input = w.write("utf16.csv", utf16);
    let o = w.analyze(&input, "out2", &[]);
    expect_error(
        &o,
        ExitCode::Input,
        &["utf16.csv", "line 1", "NUL", "--encoding utf-16le"],
    );
}

#[test]
fn mixed_encodings_reject_the_odd_rows_by_line() {
    let w = Work::new();
    // UTF-8 with umlauts, and one row pasted from a Windows-1252 file.
    let mut data = "id,score,comment\n1,9,Grüße an das Team\n2,8,très bien\n"
        .as_bytes()
        .to_vec();
    data.extend_from_slice(b"3,2,caf\xe9 froid\n");
    data.extend_from_slice("4,10,schön\n".as_bytes());
    let input = w.write("mixed.csv", data);
    let o = w.analyze(&input, "out", &[]);
    assert!(o.status.success(), "{}", show(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("read 4 = analysed 3 + rejected 1"));
    let r = rejects(&w.path("out"));
    assert_eq!((&r[0][1], &r[0][2]), ("4", "comment"), "{r:?}");
    assert!(
        r[0][3].contains("invalid UTF-8") && r[0][3].contains("--encoding"),
        "{r:?}"
    );
    assert_eq!(manifest(&w.path("out"))["input"]["encoding"], "UTF-8");
}

#[test]
fn a_score_column_full_of_text_rejects_every_row_and_says_so() {
    let w = Work::new();
    let input = w.write(
        "text.csv",
        "score,comment\nvery good,fine\nbad,slow\nexcellent,great\n",
    );
    let o = w.analyze(&input, "out", &[]);
    assert_eq!(
        o.status.code(),
        Some(ExitCode::TooManyRejects as i32),
        "{}",
        show(&o)
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("read 3 = analysed 0 + rejected 3"));
    let err = stderr(&o);
    assert!(
        err.contains("all 3 rows were rejected") && err.contains("--score-column"),
        "{err}"
    );
    let r = rejects(&w.path("out"));
    let got: Vec<(&str, &str)> = r.iter().map(|x| (&x[1], &x[3])).collect();
    assert_eq!(
        got,
        [
            ("2", "score \"very good\" is not a number"),
            ("3", "score \"bad\" is not a number"),
            ("4", "score \"excellent\" is not a number"),
        ]
    );
}

#[test]
fn an_empty_file_and_a_header_only_file_are_errors_that_keep_the_old_outputs() {
    let w = Work::new();
    let empty = w.write("empty.csv", "");
    let o = w.analyze(&empty, "out", &[]);
    expect_error(&o, ExitCode::Input, &["empty.csv", "empty"]);
    assert!(!w.path("out").exists());

    // A header and no rows is empty too (exit 4, as the README says): it
    // used to be a run of 0 rows, exit 0, that replaced yesterday's tables
    // with empty ones.
    let o = w.analyze(&w.write("export.csv", GOOD), "out", &[]);
    assert!(o.status.success(), "{}", show(&o));
    let before = tree(&w.path("out"));
    let listing = w.listing();
    for (name, text) in [
        ("header.csv", "score,comment\r\n"),
        ("blank-lines.csv", "score,comment\n\n\n"),
        ("header.jsonl", "\n"),
    ] {
        let header = w.write(name, text);
        let o = w.analyze(&header, "out", &[]);
        let needles: &[&str] = if name == "header.jsonl" {
            &[name, "empty"]
        } else {
            &[name, "no rows", "header"]
        };
        expect_error(&o, ExitCode::Input, needles);
        assert_eq!(tree(&w.path("out")), before, "{name}");
    }
    // From standard input too.
    let mut child = w
        .command(Path::new("-"), "out", &[])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(b"score,comment\n").expect("write stdin");
    }
    let o = child.wait_with_output().expect("wait");
    expect_error(&o, ExitCode::Input, &["stdin", "no rows"]);
    assert_eq!(tree(&w.path("out")), before);
    // Headers-only runs leave nothing beside the folder (the files written
    // above are inputs).
    let mut now = w.listing();
    now.retain(|n| !n.starts_with("header") && !n.starts_with("blank-lines"));
    assert_eq!(now, listing);
}

#[test]
fn files_that_are_not_csv_are_named_for_what_they_are() {
    let w = Work::new();
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    png.extend((0..=255u8).cycle().take(4000));
    // A real ZIP archive, as an .xlsx workbook is, but not a workbook.
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file("xl/workbook.xml", zip::write::SimpleFileOptions::default())
        .expect("zip entry");
    zip.write_all(b"<workbook/>").expect("zip write");
    let zip = zip.finish().expect("zip").into_inner();
    // Named .xlsx, it is read as a spreadsheet, and named as none.
    let input = w.write("broken.xlsx", &zip);
    let o = w.analyze(&input, "out", &[]);
    expect_error(
        &o,
        ExitCode::Input,
        &["broken.xlsx: not a readable spreadsheet"],
    );
    for (name, bytes, needle) in [
        ("photo.csv", png, "a PNG image"),
        ("export.zip", zip, "ZIP archive"),
        (
            "report.csv",
            b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec(),
            "a PDF document",
        ),
    ] {
        let input = w.write(name, bytes);
        let o = w.analyze(&input, "out", &[]);
        expect_error(
            &o,
            ExitCode::Input,
            &[name, needle, "not a CSV or JSON Lines export"],
        );
    }
    let o = w.analyze(&w.path("missing.csv"), "out", &[]);
    expect_error(&o, ExitCode::Input, &["missing.csv"]);
    // The system's reason once, not a second time as the error's source.
    let reason = std::fs::File::open(w.path("missing.csv"))
        .unwrap_err()
        .to_string();
    assert_eq!(stderr(&o).matches(&reason).count(), 1, "{}", show(&o));
    assert!(!w.path("out").exists());
}

#[test]
fn a_missing_unreadable_or_corrupted_model_is_exit_5_naming_it() {
    let w = Work::new();
    let input = w.write("export.csv", GOOD);
    let o = w
        .command(
            &input,
            "out",
            &["--model", w.path("nowhere").to_str().unwrap_or("")],
        )
        .output()
        .expect("run");
    expect_error(&o, ExitCode::Model, &["nowhere", "--model"]);

    // Unreadable: the folder's mode is 000.
    let locked = w.path("locked");
    common::tiny_bert_folder(&locked);
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).expect("chmod");
    let probe = without_dac_override(Command::new("ls").arg(&locked))
        .output()
        .expect("run ls");
    assert!(
        !probe.status.success(),
        "a child could still read a folder of mode 000"
    );
    let o = without_dac_override(
        w.command(&input, "out", &["--model", locked.to_str().unwrap_or("")])
            .env("RUST_BACKTRACE", "0"),
    )
    .output()
    .expect("run");
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    expect_error(&o, ExitCode::Model, &["locked", "Permission denied"]);

    // Corrupted: the weights cut in half, and a header overwritten.
    for (name, damage) in [("cut", 0usize), ("scribbled", 1)] {
        let m = w.path(name);
        common::tiny_bert_folder(&m);
        let weights = m.join("model.safetensors");
        let mut bytes = std::fs::read(&weights).expect("weights");
        if damage == 0 {
            bytes.truncate(bytes.len() / 2);
        } else {
            bytes[8..200].fill(b'x');
        }
        std::fs::write(&weights, bytes).expect("write weights");
        let o = w
            .command(&input, "out", &["--model", m.to_str().unwrap_or("")])
            .output()
            .expect("run");
        expect_error(&o, ExitCode::Model, &["model.safetensors", "--model"]);
    }
    assert!(!w.path("out").exists());
}

#[test]
fn a_taxonomy_with_duplicate_ids_or_a_cycle_is_a_usage_error() {
    let w = Work::new();
    let input = w.write("export.csv", GOOD);
    let topic = |id: &str, parent: Option<&str>| {
        let parent = parent
            .map(|p| format!("parent = \"{p}\"\n"))
            .unwrap_or_default();
        format!("[[topic]]\nid = \"{id}\"\n{parent}label = {{ en = \"{id}\" }}\nexamples.en = [\"x\"]\n")
    };
    let head = "name = \"t\"\nversion = \"1\"\n";
    let dup = w.write(
        "dup.toml",
        format!("{head}{}{}", topic("wait", None), topic("wait", None)),
    );
    let cycle = w.write(
        "cycle.toml",
        format!(
            "{head}{}{}{}",
            topic("a", Some("c")),
            topic("b", Some("a")),
            topic("c", Some("b"))
        ),
    );
    for (file, needle) in [(dup, "appears twice"), (cycle, "cycle")] {
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let o = w.analyze(&input, "out", &["--taxonomy", file.to_str().unwrap_or("")]);
        expect_error(&o, ExitCode::Usage, &[&name, needle]);
    }
    let o = w.analyze(
        &input,
        "out",
        &["--taxonomy", w.path("none.toml").to_str().unwrap_or("")],
    );
    expect_error(&o, ExitCode::Usage, &["none.toml"]);
    assert!(!w.path("out").exists());
}

#[test]
fn bad_flags_are_usage_errors() {
    let w = Work::new();
    let input = w.write("export.csv", GOOD);
    let o = w.analyze(&input, "out", &["--max-reject-rate", "7"]);
    expect_error(&o, ExitCode::Usage, &["--max-reject-rate"]);
    let o = w.analyze(&input, "out", &["--segment-column", "nope"]);
    expect_error(
        &o,
        ExitCode::Usage,
        &["--segment-column", "nope", "export.csv"],
    );
    let o = w.analyze(&input, "out", &["--no-such-flag"]);
    assert_eq!(
        o.status.code(),
        Some(ExitCode::Usage as i32),
        "{}",
        show(&o)
    );
}

#[test]
fn a_read_only_output_folder_fails_before_the_work_and_keeps_the_old_outputs() {
    let w = Work::new();
    let input = w.write("export.csv", GOOD);
    let o = w.analyze(&input, "out", &[]);
    assert!(o.status.success(), "{}", show(&o));
    let before = tree(&w.path("out"));
    let listing = w.listing();

    // The output folder itself read-only.
    let out = w.path("out");
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o555)).expect("chmod");
    assert_modes_apply(&out);
    let o = without_dac_override(&mut w.command(&input, "out", &[]))
        .output()
        .expect("run");
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    expect_error(&o, ExitCode::Output, &["read-only", "--out"]);
    assert_eq!(tree(&out), before);
    assert_eq!(w.listing(), listing);

    // The folder it would be created in read-only.
    let parent = w.path("ro");
    std::fs::create_dir(&parent).expect("mkdir");
    std::fs::set_permissions(&parent, std::fs::Permissions::from_mode(0o555)).expect("chmod");
    assert_modes_apply(&parent);
    let o = without_dac_override(&mut w.command(&input, "ro/out", &[]))
        .output()
        .expect("run");
    std::fs::set_permissions(&parent, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    expect_error(&o, ExitCode::Output, &["ro", "--out"]);
    assert_eq!(std::fs::read_dir(&parent).map(|d| d.count()).ok(), Some(0));
}

#[test]
fn a_full_disk_fails_with_exit_6_and_keeps_the_old_outputs() {
    let w = Work::new();
    // Enough rows that fact_response.csv alone passes the 16 KiB limit.
    let mut data = String::from("id,score,comment,channel\n");
    for i in 0..600 {
        data.push_str(&format!("r{i},{},the agent was friendly,phone\n", i % 11));
    }
    let input = w.write("export.csv", &data);
    let small = w.write("small.csv", GOOD);
    let o = w.analyze(&small, "out", &[]);
    assert!(o.status.success(), "{}", show(&o));
    let before = tree(&w.path("out"));
    let listing = w.listing();

    let mut c = w.command(&input, "out", &[]);
    // SAFETY: only async-signal-safe calls (signal, setrlimit) between fork and exec.
    unsafe {
        c.pre_exec(|| {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let limit = libc::rlimit {
                rlim_cur: 16 * 1024,
                rlim_max: 16 * 1024,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let o = c.output().expect("run");
    expect_error(&o, ExitCode::Output, &["File too large"]);
    assert_eq!(tree(&w.path("out")), before, "previous outputs changed");
    // The failed run removed its staging folder.
    assert_eq!(w.listing(), listing);
}

#[test]
fn no_output_path_comes_from_the_data() {
    let w = Work::new();
    // Hostile values everywhere a name could be taken from: the header
    // (segment columns), segment values, ids, the taxonomy's labels.
    let input = w.write(
        "..%2F..%2Fetc%2Fpasswd.csv",
        "id,score,comment,../../etc/passwd,/tmp/x\n\
         ../../etc/passwd,9,the agent was friendly,../../etc/passwd,/etc/shadow\n\
         /etc/passwd,3,waited on hold,..\\..\\windows,../../../../tmp/evil\n\
         ..,7,ok,.,..\n",
    );
    let tax = w.write(
        "tax.toml",
        // (The version must be numbers and dots since taxonomy 2.0, so it
        // cannot carry a path any more; the name and labels still can.)
        "name = \"../../etc/passwd\"\nversion = \"1.0.0\"\n\
         [[topic]]\nid = \"wait\"\nlabel = { en = \"../../etc/passwd\", de = \"/etc/shadow\" }\n\
         examples.en = [\"waited on hold\"]\nexamples.de = [\"in der warteschleife\"]\n",
    );
    let before = w.listing();
    let o = w.analyze(
        &input,
        "out",
        &[
            "--taxonomy",
            tax.to_str().unwrap_or(""),
            "--segment-column",
            "../../etc/passwd",
        ],
    );
    assert!(o.status.success(), "{}", show(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("read 3 = analysed 3 + rejected 0"));
    let mut files: Vec<String> = tree(&w.path("out")).into_iter().map(|(n, _)| n).collect();
    files.sort();
    assert_eq!(
        files,
        [
            "agg_nps.csv",
            "agg_nps.parquet",
            "agg_topic.csv",
            "agg_topic.parquet",
            "alerts.csv",
            "alerts.parquet",
            "bridge_response_topic.csv",
            "bridge_response_topic.parquet",
            "dim_date.csv",
            "dim_date.parquet",
            "dim_topic.csv",
            "dim_topic.parquet",
            "driver_change.csv",
            "driver_change.parquet",
            "fact_answer.csv",
            "fact_answer.parquet",
            "fact_response.csv",
            "fact_response.parquet",
            "followup.csv",
            "followup.parquet",
            "key_driver.csv",
            "key_driver.parquet",
            "manifest.json",
            "rejects.csv",
            "report.html",
            "segment_driver.csv",
            "segment_driver.parquet",
            "team_view.csv",
            "team_view.parquet",
            "topic_driver.csv",
            "topic_driver.parquet",
            "views.sql",
        ]
    );
    let mut after = w.listing();
    after.retain(|n| !before.contains(n));
    assert_eq!(after, [".out.lock", "out"]);
    assert!(!Path::new("/tmp/evil").exists() && !Path::new("/tmp/x").exists());

    // A topic id that is a path is refused outright.
    let bad = w.write(
        "bad.toml",
        "name = \"t\"\nversion = \"1\"\n[[topic]]\nid = \"../../etc/passwd\"\n\
         label = { en = \"x\" }\nexamples.en = [\"x\"]\n",
    );
    let o = w.analyze(&input, "out2", &["--taxonomy", bad.to_str().unwrap_or("")]);
    expect_error(&o, ExitCode::Usage, &["bad.toml", "../../etc/passwd"]);
    assert!(!w.path("out2").exists());
}

/// Everything under `dir`, folders too (`name/`), with file contents.
fn everything(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut all = tree(dir);
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                let rel = p.strip_prefix(dir).expect("under dir").display();
                all.push((format!("{rel}/"), Vec::new()));
                stack.push(p);
            }
        }
    }
    all.sort();
    all
}

/// A browser extension's folder: its own `manifest.json` and files.
fn browser_extension(dir: &Path) {
    std::fs::create_dir_all(dir.join("icons")).expect("mkdir");
    std::fs::write(
        dir.join("manifest.json"),
        r#"{"manifest_version": 3, "name": "Tab helper", "version": "1.0"}"#,
    )
    .expect("write");
    std::fs::write(
        dir.join("background.js"),
        "chrome.tabs.query({}, () => {});",
    )
    .expect("write");
    std::fs::write(dir.join("icons/icon16.png"), b"\x89PNG").expect("write");
}

#[test]
fn a_folder_with_someone_else_s_manifest_is_refused_and_left_untouched() {
    let w = Work::new();
    let input = w.write("export.csv", GOOD);
    // A browser extension given as --out: it has a manifest.json, but not
    // one verbatim wrote. It used to lose everything but verbatim's files,
    // with exit 0.
    let ext = w.path("extension");
    browser_extension(&ext);
    let before = everything(&ext);
    let listing = w.listing();
    let o = w.analyze(&input, "extension", &[]);
    expect_error(
        &o,
        ExitCode::Output,
        &[
            "extension",
            "not verbatim's output",
            "background.js",
            "icons/",
            "manifest.json",
            "--out",
        ],
    );
    assert_eq!(everything(&ext), before);
    // Nothing beside it either (no lock file, no staging folder).
    assert_eq!(w.listing(), listing);

    // `{}` is not a verbatim manifest, even alone, nor is one with
    // verbatim's tool name but no schema.
    for manifest in ["{}", r#"{"tool": "verbatim 0.1.0", "tables": []}"#] {
        let odd = w.path("odd");
        std::fs::create_dir_all(&odd).expect("mkdir");
        std::fs::write(odd.join("manifest.json"), manifest).expect("write");
        let o = w.analyze(&input, "odd", &[]);
        expect_error(&o, ExitCode::Output, &["odd", "manifest.json"]);
        assert_eq!(
            std::fs::read_to_string(odd.join("manifest.json"))
                .ok()
                .as_deref(),
            Some(manifest)
        );
    }
}

#[test]
fn files_a_user_put_into_an_output_folder_are_never_deleted() {
    let w = Work::new();
    let input = w.write("export.csv", GOOD);
    let o = w.analyze(&input, "out", &[]);
    assert!(o.status.success(), "{}", show(&o));
    let m = manifest(&w.path("out"));
    assert_eq!(m["schema"], "verbatim-output/1", "{m}");
    let listed: Vec<&str> = m["files"]
        .as_array()
        .map(|a| a.iter().filter_map(|f| f.as_str()).collect())
        .unwrap_or_default();
    assert!(
        listed.contains(&"report.html") && listed.contains(&"fact_response.parquet"),
        "{listed:?}"
    );
    // Every file of the folder but the manifest is listed in it.
    let mut on_disk: Vec<String> = tree(&w.path("out")).into_iter().map(|(n, _)| n).collect();
    on_disk.retain(|n| n != "manifest.json");
    assert_eq!(on_disk, listed);

    let out = w.path("out");
    std::fs::write(out.join("notes.txt"), "call the Berlin team").expect("write");
    std::fs::create_dir_all(out.join("drafts")).expect("mkdir");
    std::fs::write(out.join("drafts/plan.md"), "# plan").expect("write");
    let before = everything(&out);
    let listing = w.listing();
    let o = w.analyze(&input, "out", &[]);
    expect_error(
        &o,
        ExitCode::Output,
        &["out", "notes.txt", "drafts/", "verbatim did not write"],
    );
    assert!(!stderr(&o).contains("plan.md"), "{}", show(&o));
    assert_eq!(everything(&out), before);
    assert_eq!(w.listing(), listing);

    // A file in place of one of verbatim's tables is not one it wrote
    // either: a folder named like a table.
    std::fs::remove_file(out.join("notes.txt")).expect("rm");
    std::fs::remove_dir_all(out.join("drafts")).expect("rm");
    std::fs::remove_file(out.join("agg_nps.csv")).expect("rm");
    std::fs::create_dir(out.join("agg_nps.csv")).expect("mkdir");
    let o = w.analyze(&input, "out", &[]);
    expect_error(&o, ExitCode::Output, &["agg_nps.csv/"]);
    std::fs::remove_dir(out.join("agg_nps.csv")).expect("rmdir");

    // Moved out, the folder is verbatim's again.
    let o = w.analyze(&input, "out", &[]);
    assert!(o.status.success(), "{}", show(&o));
}

#[test]
fn eval_output_folders_follow_the_same_rule() {
    let w = Work::new();
    let data = w.write(
        "labelled.csv",
        "text,label\ngreat service,positive\nthe agent was friendly,positive\n\
         invoice wrong,negative\nok,neutral\n",
    );
    let eval = |out: &str| {
        Command::new(env!("CARGO_BIN_EXE_verbatim"))
            .args(["eval", "sentiment", "--data"])
            .arg(&data)
            .arg("--model")
            .arg(w.path("model"))
            .arg("--out")
            .arg(w.path(out))
            .args(["--threads", "1"])
            .output()
            .expect("run verbatim eval")
    };
    // A rerun replaces its own folder (it used to be refused: eval wrote
    // no manifest).
    for _ in 0..2 {
        let o = eval("ev");
        assert!(o.status.success(), "{}", show(&o));
    }
    let m = manifest(&w.path("ev"));
    assert_eq!(m["schema"], "verbatim-output/1", "{m}");
    assert!(w.path("ev/eval_summary.csv").is_file());

    let ext = w.path("extension");
    browser_extension(&ext);
    let before = everything(&ext);
    let o = eval("extension");
    expect_error(
        &o,
        ExitCode::Output,
        &["extension", "background.js", "icons/"],
    );
    assert_eq!(everything(&ext), before);

    // An analyze folder with a user's file is refused by eval too.
    let input = w.write("export.csv", GOOD);
    let o = w.analyze(&input, "out", &[]);
    assert!(o.status.success(), "{}", show(&o));
    std::fs::write(w.path("out/notes.txt"), "mine").expect("write");
    let o = eval("out");
    expect_error(&o, ExitCode::Output, &["notes.txt"]);
    assert!(w.path("out/notes.txt").is_file());
}

#[test]
fn a_cache_inside_the_output_folder_is_refused_however_it_is_given() {
    let w = Work::new();
    let input = w.write("export.csv", GOOD);
    let cache = w.path("out/embeddings.sqlite");
    let cache_arg = cache.to_str().unwrap_or("");
    let o = w.analyze(&input, "out", &["--cache", cache_arg]);
    expect_error(
        &o,
        ExitCode::Usage,
        &["--cache", "--out", "embeddings.sqlite"],
    );
    assert!(!w.path("out").exists(), "{}", show(&o));

    // Through VERBATIM_CACHE.
    let o = w
        .command(&input, "out", &[])
        .env("VERBATIM_CACHE", &cache)
        .output()
        .expect("run");
    expect_error(&o, ExitCode::Usage, &["--cache", "--out", "VERBATIM_CACHE"]);
    assert!(!w.path("out").exists());

    // Through the config file (paths relative to it).
    let config = w.write(
        "verbatim.toml",
        "[analysis]\ncache = \"out/embeddings.sqlite\"\n",
    );
    let o = w.analyze(&input, "out", &["--config", config.to_str().unwrap_or("")]);
    expect_error(&o, ExitCode::Usage, &["--cache", "--out", "verbatim.toml"]);
    assert!(!w.path("out").exists());

    // The same folder reached through a symbolic link, and a cache in a
    // subfolder of an output folder that exists.
    std::os::unix::fs::symlink(w.root(), w.path("link")).expect("symlink");
    let o = w.analyze(
        &input,
        "link/out",
        &["--cache", w.path("out/sub/c.sqlite").to_str().unwrap_or("")],
    );
    expect_error(&o, ExitCode::Usage, &["--cache", "--out"]);
    assert!(!w.path("out").exists());

    // Beside the output folder is fine, and a run may then use it.
    let beside = w.path("out-cache.sqlite");
    let o = w.analyze(&input, "out", &["--cache", beside.to_str().unwrap_or("")]);
    assert!(o.status.success(), "{}", show(&o));
    assert!(beside.is_file());
    let o = w.analyze(&input, "out", &["--cache", cache_arg]);
    expect_error(&o, ExitCode::Usage, &["--cache", "--out"]);
}

#[test]
fn a_taxonomy_with_thousands_of_examples_says_that_it_embeds_them() {
    let w = Work::new();
    let input = w.write("export.csv", GOOD);
    let mut tax = String::from("name = \"big\"\nversion = \"1.0.0\"\n");
    for i in 0..3_000 {
        tax.push_str(&format!(
            "[[topic]]\nid = \"t{i}\"\nlabel = {{ en = \"T{i}\" }}\n\
             examples.en = [\"the agent {i}\", \"waited {i}\"]\n"
        ));
    }
    let tax = w.write("big.toml", tax);
    let c = w.command(&input, "out", &["--taxonomy", tax.to_str().unwrap_or("")]);
    let args: Vec<_> = c
        .get_args()
        .filter(|a| *a != "--quiet")
        .map(|a| a.to_os_string())
        .collect();
    let o = Command::new(c.get_program())
        .args(args)
        .output()
        .expect("run");
    assert!(o.status.success(), "{}", show(&o));
    assert!(
        stderr(&o).contains("6000 example phrases of 3000 topics"),
        "{}",
        show(&o)
    );
    // Quiet runs stay quiet.
    let o = w.analyze(&input, "out", &["--taxonomy", tax.to_str().unwrap_or("")]);
    assert!(o.status.success(), "{}", show(&o));
    assert!(!stderr(&o).contains("example phrases"), "{}", show(&o));
}

/// Every cell of a CSV output.
fn csv_cells(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let header = r
        .headers()
        .expect("header")
        .iter()
        .map(str::to_string)
        .collect();
    let rows = r
        .records()
        .map(|x| x.expect("row").iter().map(str::to_string).collect())
        .collect();
    (header, rows)
}

/// The values of a text column of a Parquet output, as stored.
fn parquet_strings(path: &Path, column: &str) -> Vec<String> {
    use arrow_array::Array;
    let file = std::fs::File::open(path).expect("parquet file");
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .expect("parquet reader")
        .build()
        .expect("parquet batches");
    let mut out = Vec::new();
    for batch in reader {
        let batch = batch.expect("batch");
        let col = batch
            .column_by_name(column)
            .unwrap_or_else(|| panic!("no column {column}"));
        let s = col
            .as_any()
            .downcast_ref::<arrow_array::StringArray>()
            .expect("a text column");
        out.extend((0..s.len()).map(|i| s.value(i).to_string()));
    }
    out
}

/// Names of the columns of a Parquet output.
fn parquet_columns(path: &Path) -> Vec<String> {
    let file = std::fs::File::open(path).expect("parquet file");
    let b = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .expect("parquet reader");
    b.schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect()
}

#[test]
fn cells_that_start_like_formulas_are_neutralised_in_csv_and_exact_in_parquet() {
    let w = Work::new();
    let input = w.write(
        "formulas.csv",
        "id,score,comment,channel\n\
         =1+2,2,waited on hold an hour,@chat\n\
         -12.5,3,invoice wrong,-phone\n\
         +x,9,great service,\"=HYPERLINK(\"\"http://evil\"\")\"\n\
         ok1,1,rude agent,@chat\n\
         ok2,10,great service,-phone\n\
         =bad,x,not a score,@chat\n",
    );
    let o = w.analyze(&input, "out", &[]);
    assert!(o.status.success(), "{}", show(&o));
    let out = w.path("out");
    let mut checked = 0;
    for e in std::fs::read_dir(&out).expect("out") {
        let p = e.expect("entry").path();
        if p.extension().is_none_or(|x| x != "csv") {
            continue;
        }
        let (header, rows) = csv_cells(&p);
        for cell in header.iter().chain(rows.iter().flatten()) {
            assert!(
                !cell.starts_with(['=', '+', '@', '\t', '\r']),
                "{}: {cell:?}",
                p.display()
            );
            assert!(
                !cell.starts_with('-') || cell.parse::<f64>().is_ok(),
                "{}: {cell:?} is neither neutralised nor a number",
                p.display()
            );
        }
        checked += 1;
    }
    assert!(checked >= 10, "{checked} CSV files");
    let (header, rows) = csv_cells(&out.join("fact_response.csv"));
    let id = header
        .iter()
        .position(|h| h == "response_id")
        .expect("response_id");
    let ids: Vec<&str> = rows.iter().map(|r| r[id].as_str()).collect();
    assert_eq!(ids, ["'=1+2", "'-12.5", "'+x", "ok1", "ok2"]);
    let (_, agg) = csv_cells(&out.join("agg_nps.csv"));
    assert!(agg.iter().any(|r| r[1] == "'@chat"), "{agg:?}");
    assert!(
        agg.iter().any(|r| r[1] == "'=HYPERLINK(\"http://evil\")"),
        "{agg:?}"
    );
    let (_, followup) = csv_cells(&out.join("followup.csv"));
    assert!(followup.iter().any(|r| r[1] == "'=1+2"), "{followup:?}");
    let r = rejects(&out);
    assert_eq!(&r[0][4], "'=bad,x,not a score,@chat");
    // Parquet keeps the values exact.
    assert_eq!(
        parquet_strings(&out.join("fact_response.parquet"), "response_id"),
        ["=1+2", "-12.5", "+x", "ok1", "ok2"]
    );
    assert!(
        parquet_strings(&out.join("agg_nps.parquet"), "segment_value")
            .contains(&"@chat".to_string())
    );
}

#[test]
fn duplicate_and_empty_header_names_get_unique_output_names() {
    let w = Work::new();
    let mut data = String::from("id,score,comment,a b,a-b,A B,a_b,,\n");
    for i in 0..6 {
        let (score, comment) = if i % 2 == 0 {
            (9, "great service")
        } else {
            (2, "invoice wrong")
        };
        let v = if i < 3 { "x" } else { "y" };
        data.push_str(&format!(
            "r{i},{score},{comment},{v}1,{v}2,{v}3,{v}4,{v}5,{v}6\n"
        ));
    }
    let input = w.write("dups.csv", data);
    let o = w.analyze(&input, "out", &[]);
    assert!(o.status.success(), "{}", show(&o));
    let out = w.path("out");
    let want = [
        "segment_a_b",
        "segment_a_b_2",
        "segment_a_b_3",
        "segment_a_b_4",
        "segment_col_8",
        "segment_col_9",
    ];
    for table in ["fact_response", "followup"] {
        let (header, rows) = csv_cells(&out.join(format!("{table}.csv")));
        let segments: Vec<&str> = header
            .iter()
            .map(String::as_str)
            .filter(|h| h.starts_with("segment_"))
            .collect();
        assert_eq!(segments, want, "{table}");
        // Each output column holds its own input column's values.
        let at = |name: &str| header.iter().position(|h| h == name).expect(name);
        assert!(!rows.is_empty(), "{table}");
        for r in &rows {
            assert!(r[at("segment_a_b_3")].ends_with('3'), "{table}: {r:?}");
            assert!(r[at("segment_col_9")].ends_with('6'), "{table}: {r:?}");
        }
        let columns = parquet_columns(&out.join(format!("{table}.parquet")));
        let mut unique = columns.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), columns.len(), "{table}: {columns:?}");
        assert!(
            columns.iter().all(|c| !c.is_empty()),
            "{table}: {columns:?}"
        );
    }
    // agg_nps: the empty column name is the overall row only.
    let (_, agg) = csv_cells(&out.join("agg_nps.csv"));
    let mut names: Vec<&str> = agg.iter().map(|r| r[0].as_str()).collect();
    names.dedup();
    assert_eq!(names, ["", "a b", "a-b", "A B", "a_b", "col_8", "col_9"]);
    assert!(agg
        .iter()
        .filter(|r| r[0].is_empty())
        .all(|r| r[1].is_empty()));
    // The manifest maps each input column to its output name.
    let m = manifest(&out);
    let map = m["input"]["segment_column_names"]
        .as_array()
        .expect("segment_column_names")
        .clone();
    let entry = |pos: u64| {
        map.iter()
            .find(|e| e["position"] == pos)
            .unwrap_or_else(|| panic!("position {pos} in {map:?}"))
            .clone()
    };
    assert_eq!(entry(6)["header"], "A B");
    assert_eq!(entry(6)["name"], "A B");
    assert_eq!(entry(6)["output"], "segment_a_b_3");
    assert_eq!(entry(8)["header"], "");
    assert_eq!(entry(8)["name"], "col_8");
    assert_eq!(entry(8)["output"], "segment_col_8");
    assert_eq!(entry(9)["output"], "segment_col_9");
}

#[test]
fn control_characters_in_header_names_are_escaped_in_messages() {
    let w = Work::new();
    let input = w.write("ansi.csv", "\u{1b}[31mQ1\u{1b}[0m,comment\n9,ok\n");
    let o = w.analyze(&input, "out", &[]);
    expect_error(
        &o,
        ExitCode::Input,
        &["ansi.csv", "\\u{1b}[31mQ1\\u{1b}[0m"],
    );
    assert!(!stderr(&o).contains('\u{1b}'), "{}", show(&o));

    let input = w.write(
        "ansi2.csv",
        "score,comment,\u{1b}]0;pwned\u{7}chan\n9,ok,x\n",
    );
    let o = w.analyze(&input, "out", &["--segment-column", "nope"]);
    expect_error(&o, ExitCode::Usage, &["nope", "\\u{1b}]0;pwned\\u{7}chan"]);
    assert!(!stderr(&o).contains('\u{1b}'), "{}", show(&o));
    let o = w.analyze(&input, "out", &["--team-column", "nope"]);
    assert!(!stderr(&o).contains('\u{1b}'), "{}", show(&o));
    let o = w.analyze(&input, "out", &["--date-column", "nope"]);
    assert!(!stderr(&o).contains('\u{1b}'), "{}", show(&o));
}

#[test]
fn a_rejected_record_over_several_lines_is_reported_with_its_line_range() {
    let w = Work::new();
    let input = w.write(
        "multi.csv",
        "id,score,comment\na1,9,fine\na2,11,\"first line\nsecond line\nthird line\"\na3,x,one line\n",
    );
    let o = w.analyze(&input, "out", &[]);
    assert!(o.status.success(), "{}", show(&o));
    let r = rejects(&w.path("out"));
    let lines: Vec<&str> = r.iter().map(|r| &r[1]).collect();
    assert_eq!(lines, ["3-5", "6"], "{r:?}");
}
