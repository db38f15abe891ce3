#!/usr/bin/env python3
"""A split run of verbatim on Apache Spark: the recipe a data team copies.

    python scripts/spark_split_run.py EXPORT.csv OUT [--parts N] [--master local[2]]
        [--verbatim target/release/verbatim] [-- FLAGS FOR BOTH STAGES...]

Stage 1, on Spark: the export is read by Spark's CSV reader (every column a
string, quoted line breaks kept), cut into N partitions, and each task writes
its rows with the header to a temporary CSV and runs

    verbatim analyze TMP.csv --part K/N --out OUT/parts FLAGS

so the per-comment work (split, embed, classify) runs on the executors, one
verbatim process per partition (the model is loaded once per task; choose N
as a small multiple of the executor cores). A task's part appears whole or
not at all, so a retried task simply writes it again.

Stage 2, on the driver once every task is done:

    verbatim analyze EXPORT.csv --from-parts OUT/parts --out OUT/results FLAGS

reads the export once more and writes every table, the report and the
manifest, equal to a single `verbatim analyze` (tests/parts.rs). FLAGS must
be the same in both stages (model, taxonomy, sentiment, thresholds): stage 2
refuses parts made otherwise. OUT/parts must be on storage every executor
and the driver share (here: the local disk, as with local[N]).

Needs `pip install pyspark==3.5.3` and a Java 17 runtime. Prints the
seconds of each stage and the comments per second of stage 1.
"""

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time


def run_partition(verbatim, parts_dir, n, header, flags):
    """The task of one partition: its rows to a CSV, then `--part K/N`."""

    def task(index, rows):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, f"partition-{index + 1}.csv")
            count = 0
            with open(path, "w", newline="", encoding="utf-8") as f:
                w = csv.writer(f)
                w.writerow(header)
                for row in rows:
                    w.writerow(["" if v is None else v for v in row])
                    count += 1
            cmd = [verbatim, "analyze", path, "--part", f"{index + 1}/{n}",
                   "--out", parts_dir, "--quiet", *flags]
            done = subprocess.run(cmd, capture_output=True, text=True)
            if done.returncode != 0:
                raise RuntimeError(
                    f"part {index + 1}/{n}: exit {done.returncode}\n{done.stderr}")
            yield (index + 1, count, done.stdout.strip())

    return task


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("export")
    ap.add_argument("out")
    ap.add_argument("--parts", type=int, default=4)
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--verbatim", default="target/release/verbatim")
    argv = sys.argv[1:]
    flags = argv[argv.index("--") + 1:] if "--" in argv else []
    a = ap.parse_args(argv[:argv.index("--")] if "--" in argv else argv)
    a.flags = flags
    verbatim = os.path.abspath(a.verbatim)
    export = os.path.abspath(a.export)
    parts_dir = os.path.abspath(os.path.join(a.out, "parts"))
    results = os.path.abspath(os.path.join(a.out, "results"))
    os.makedirs(parts_dir, exist_ok=True)
    for old in os.listdir(parts_dir):
        if old.startswith("part-"):
            os.remove(os.path.join(parts_dir, old))

    from pyspark.sql import SparkSession

    spark = (SparkSession.builder.master(a.master).appName("verbatim split run")
             .config("spark.ui.enabled", "false").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    started = time.time()
    df = (spark.read.option("header", True).option("multiLine", True)
          .option("escape", '"').option("inferSchema", False).csv(export))
    header = df.columns
    rdd = df.rdd.map(tuple).repartition(a.parts)
    done = rdd.mapPartitionsWithIndex(
        run_partition(verbatim, parts_dir, a.parts, header, a.flags)).collect()
    stage1 = time.time() - started
    spark.stop()
    rows = sum(c for _, c, _ in done)
    for k, count, line in sorted(done):
        print(line)
    started = time.time()
    cmd = [verbatim, "analyze", export, "--from-parts", parts_dir, "--out", results,
           "--quiet", *a.flags]
    stats = subprocess.run(cmd, capture_output=True, text=True)
    stage2 = time.time() - started
    if stats.returncode != 0:
        sys.exit(f"statistics stage: exit {stats.returncode}\n{stats.stderr}")
    print(f"stage 1 (Spark {a.master}, {a.parts} partitions): {rows} rows in {stage1:.1f} s, "
          f"{rows / stage1:.1f} comments/s")
    print(f"stage 2 (statistics): {stage2:.1f} s; results in {results}")


if __name__ == "__main__":
    main()
