#!/usr/bin/env python3
"""A split run of verbatim on Apache Spark: the recipe a data team copies.

    python scripts/spark_split_run.py EXPORT.csv OUT [--parts N] [--master local[2]]
        [--verbatim target/release/verbatim] [--load per-worker|per-task]
        [-- FLAGS FOR BOTH STAGES...]

Stage 1, on Spark: the export is read by Spark's CSV reader (every column a
string, quoted line breaks kept), cut into N partitions, and each task writes
its rows with the header to a temporary CSV and has verbatim write part K of
N into OUT/parts, so the per-comment work (split, embed, classify) runs on
the executors. By default (--load per-worker) each Python worker keeps one

    verbatim analyze --part-worker --out OUT/parts FLAGS

process in a module-level global, started by its first partition and sent
each later one as a request ({"input": TMP.csv, "part": "K/N"} on its
standard input): Spark reuses its Python workers across tasks
(spark.python.worker.reuse, on by default), so the model is loaded once per
Python worker, not once per task, and N may be many times the cores. With
--load per-task each task runs `verbatim analyze TMP.csv --part K/N --out
OUT/parts FLAGS`, one process and one model load per partition. Both write
the same files. A task's part appears whole or not at all, so a retried task
simply writes it again; a worker that died is started anew by the next task.

Stage 2, on the driver once every task is done:

    verbatim analyze EXPORT.csv --from-parts OUT/parts --out OUT/results FLAGS

reads the export once more and writes every table, the report and the
manifest, equal to a single `verbatim analyze` (tests/parts.rs). FLAGS must
be the same in both stages (model, taxonomy, sentiment, thresholds): stage 2
refuses parts made otherwise. OUT/parts must be on storage every executor
and the driver share (here: the local disk, as with local[N]).

Needs `pip install pyspark==3.5.3` and a Java 17 runtime. Prints each part
(with the pid of the worker that wrote it), the seconds of each stage, the
comments per second of stage 1 and how many times the model was loaded.
"""

import argparse
import atexit
import csv
import functools
import json
import os
import subprocess
import sys
import tempfile
import time

# The verbatim part worker of this Python process (per-worker loading):
# started by the first partition this process runs, kept for the next ones.
# Spark reuses its Python workers across tasks (spark.python.worker.reuse,
# on by default), so the model is loaded once per Python worker. A
# module-level global of an imported module survives between tasks; one of
# the driver's __main__ would be pickled anew with every task.
_WORKER = None


def _stop_worker():
    """Ends the part worker: no more requests, so it exits 0."""
    global _WORKER
    if _WORKER is not None:
        proc, _, stderr = _WORKER
        _WORKER = None
        try:
            proc.stdin.close()
            proc.wait(timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            proc.kill()
        stderr.close()


atexit.register(_stop_worker)


def _worker(cmd):
    """This process's part worker for `cmd`, started when there is none."""
    global _WORKER
    if _WORKER is not None and (_WORKER[1] != cmd or _WORKER[0].poll() is not None):
        _stop_worker()
    if _WORKER is None:
        # stderr to a file: a pipe nobody reads could fill and stop it.
        stderr = tempfile.TemporaryFile(mode="w+", encoding="utf-8")
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=stderr, text=True, encoding="utf-8", bufsize=1)
        _WORKER = (proc, cmd, stderr)
    return _WORKER


def _ask_worker(cmd, path, part):
    """Has the part worker write `part` of the CSV at `path`; its answer."""
    proc, _, stderr = _worker(cmd)
    try:
        proc.stdin.write(json.dumps({"input": path, "part": part}) + "\n")
        proc.stdin.flush()
        line = proc.stdout.readline()
    except OSError:
        line = ""
    if not line:
        proc.wait()
        stderr.seek(0)
        said = stderr.read()[-4000:]
        _stop_worker()
        raise RuntimeError(f"part {part}: the verbatim part worker ended "
                           f"(exit {proc.returncode})\n{said}")
    answer = json.loads(line)
    if not answer["ok"]:
        raise RuntimeError(f"part {part}: exit {answer['exit_code']} ({answer['exit']}): "
                           f"{answer['error']}")
    return answer


def _run_once(verbatim, parts_dir, flags, path, part):
    """One verbatim process for one partition: the model loaded each time."""
    cmd = [verbatim, "analyze", path, "--part", part, "--out", parts_dir, "--quiet", *flags]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"part {part}: exit {done.returncode}\n{done.stderr}")
    return {"ok": True, "part": part, "summary": done.stdout.strip(),
            "worker": {"pid": None, "requests": 1, "parts": 1}}


def partition_task(verbatim, parts_dir, n, header, flags, load, index, rows):
    """The task of one partition: its rows to a CSV, then part K of N."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, f"partition-{index + 1}.csv")
        count = 0
        with open(path, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(header)
            for row in rows:
                w.writerow(["" if v is None else v for v in row])
                count += 1
        part = f"{index + 1}/{n}"
        if load == "per-task":
            answer = _run_once(verbatim, parts_dir, flags, path, part)
        else:
            cmd = [verbatim, "analyze", "--part-worker", "--out", parts_dir, "--quiet", *flags]
            answer = _ask_worker(cmd, path, part)
        yield (index + 1, count, answer)


def _summary(answer):
    """The line `analyze --part` prints, from a worker's answer too."""
    if "summary" in answer:
        return answer["summary"]
    w = answer["worker"]
    return (f"part {answer['part'].replace('/', ' of ')}: read {answer['read']} = analysed "
            f"{answer['analysed']} + rejected {answer['rejected']}; {answer['texts']} distinct "
            f"answers analysed; {answer['manifest']} (worker pid {w['pid']}, its part "
            f"{w['parts']}, model loaded in {w['load_seconds']:.1f} s)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("export")
    ap.add_argument("out")
    ap.add_argument("--parts", type=int, default=4)
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--verbatim", default="target/release/verbatim")
    ap.add_argument("--load", choices=["per-worker", "per-task"], default="per-worker",
                    help="per-worker: one `analyze --part-worker` per Python worker, the "
                         "model loaded once per worker; per-task: one `analyze --part` per "
                         "partition, the model loaded once per task")
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
    # The task by reference to this module (shipped to the executors), so
    # that its part worker stays in the Python worker between tasks.
    spark.sparkContext.addPyFile(os.path.abspath(__file__))
    import spark_split_run as recipe
    task = functools.partial(recipe.partition_task, verbatim, parts_dir, a.parts, header,
                             a.flags, a.load)
    done = rdd.mapPartitionsWithIndex(task).collect()
    stage1 = time.time() - started
    spark.stop()
    rows = sum(c for _, c, _ in done)
    for k, count, answer in sorted(done, key=lambda d: d[0]):
        print(_summary(answer))
    if a.load == "per-task":
        loads = len(done)
    else:
        loads = len({answer["worker"]["pid"] for _, _, answer in done})
    started = time.time()
    cmd = [verbatim, "analyze", export, "--from-parts", parts_dir, "--out", results,
           "--quiet", *a.flags]
    stats = subprocess.run(cmd, capture_output=True, text=True)
    stage2 = time.time() - started
    if stats.returncode != 0:
        sys.exit(f"statistics stage: exit {stats.returncode}\n{stats.stderr}")
    print(f"stage 1 (Spark {a.master}, {a.parts} partitions, model loaded {a.load}: "
          f"{loads} loads): {rows} rows in {stage1:.1f} s, {rows / stage1:.1f} comments/s")
    print(f"stage 2 (statistics): {stage2:.1f} s; results in {results}")


if __name__ == "__main__":
    main()
