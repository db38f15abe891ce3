//! DuckDB from the project's virtual environment (installed there by
//! scripts/test.sh), run over the files of an output folder as a BI
//! developer would: from inside the folder, optionally after its own
//! `views.sql`. A query's rows come back one per line, fields joined by
//! `|`, NULL as an empty field.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The project's Python, which has `duckdb`.
pub fn python() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python")
}

/// Runs `sql` in DuckDB from inside `dir`, after `views.sql` when `views`
/// (`cd out && duckdb -init views.sql`).
pub fn query(sql: &str, dir: &Path, views: bool) -> String {
    let script = format!(
        "import duckdb, os\nos.chdir({:?})\ncon = duckdb.connect()\n{}for row in con.sql({:?}).fetchall():\n    print('|'.join('' if v is None else str(v) for v in row))",
        dir.display().to_string(),
        if views {
            "con.execute(open('views.sql').read())\n"
        } else {
            ""
        },
        sql
    );
    let o = Command::new(python())
        .args(["-c", &script])
        .output()
        .expect("running the project's python");
    assert!(
        o.status.success(),
        "duckdb failed (scripts/test.sh installs it into .venv): {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).expect("utf-8")
}

/// Runs `sql` in DuckDB from inside `dir`, on the files alone.
pub fn duckdb(sql: &str, dir: &Path) -> String {
    query(sql, dir, false)
}

/// Runs `sql` in DuckDB from inside `dir` after the folder's own
/// `views.sql`.
pub fn with_views(sql: &str, dir: &Path) -> String {
    query(sql, dir, true)
}

/// One whole number from a query.
pub fn number(sql: &str, dir: &Path, views: bool) -> i64 {
    let row = query(sql, dir, views);
    row.trim()
        .parse()
        .unwrap_or_else(|_| panic!("{sql}: {row}"))
}
