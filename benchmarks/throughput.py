"""Throughput of ``lintrank check``: cache, one-file edits, budget mode, Dask, memory.

Builds trees from the training mirrors in ``/work/.mirror`` (or takes ``--tree``)
under a temporary folder (never committed), runs the real ``lintrank`` CLI and
prints ratios measured in this one run, as medians over ``--repeat`` rounds:

* warm re-run vs cold run of ``lintrank check --tools flake8,pylint``;
* one-file-edited re-run vs cold (a test file and a much-imported module);
* budget mode: share of the full run's top-decile findings (by score) found,
  against the share of the full run's wall time spent (after a config change,
  with the last run's outcomes in the cache; and on a fresh cache);
* Dask LocalCluster, 2 workers vs 1, on pylint-only work, beside its ceiling: what
  pylint alone gains from the engine's 2-way split (see _ceiling.py);
* peak RSS of the lintrank process (and its whole process tree) on a big tree.

Example: ``python benchmarks/throughput.py --repeat 3``
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
from _ceiling import pylint_ceiling  # this script's folder
from lintrank.core.cache import Cache
from lintrank.core.costs import CostModel

MIRRORS = Path("/work/.mirror")
# The code only: the analyzers' defaults apply (pytest's own pylint config turns off
# nearly every check, which would leave budget mode little to rank).
MAIN = {"pytest-dev+pytest": ["src", "testing"]}
# Two pylint-heavy trees for Dask: projects that import one another (flask imports
# werkzeug, jinja, click and itsdangerous: every pylint process that sees flask infers
# them), and projects that do not (each process infers only its own).
DASK = {
    "linked": {repo: ["src"] for repo in ("pallets+flask", "pallets+click", "pallets+jinja",
                                          "pallets+werkzeug", "pallets+itsdangerous",
                                          "psf+requests")},
    "independent": {"pallets+click": ["src"], "pallets+werkzeug": ["src"],
                    "pallets+itsdangerous": ["src"], "psf+requests": ["src"],
                    "encode+starlette": ["starlette"], "benoitc+gunicorn": ["gunicorn"]},
}
BIG = ["pytest-dev+pytest", "Pylons+pyramid", "Textualize+rich", "aio-libs+aiohttp",
       "pallets+werkzeug", "sqlalchemy+alembic", "pallets+flask", "pallets+click",
       "jazzband+pip-tools", "pallets+jinja", "psf+requests", "pytest-dev+pluggy"]
LINTRANK = str(Path(sys.executable).with_name("lintrank"))
IMPORTED = "src/_pytest/nodes.py"  # imported by about 30 other modules
SAMPLE = 2  # randomly chosen files edited per round (seeded: the same each run)
QUIET = 15.0  # % of all CPUs busy: below it the machine counts as quiet


def extract(repo: str, paths: list[str], dest: Path) -> None:
    """``git archive`` a mirror's paths into ``dest`` (no history, no .git)."""
    git = MIRRORS / repo / "repo"
    dest.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "-C", str(git), "archive", "HEAD", *paths],
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)


def build_big(dest: Path, files: int) -> int:
    """Combine mirrors (copies of them if needed) until ``files`` Python files exist."""
    count, copy = 0, 0
    while count < files:
        for repo in BIG:
            if count >= files:
                break
            extract(repo, [], dest / f"copy{copy}" / repo)
            count = sum(1 for _ in dest.rglob("*.py"))
        copy += 1
    return count


def run(args: list[str], cwd: Path) -> dict:
    """Run lintrank; return wall seconds, the JSON report and peak RSS (MiB)."""
    started = time.perf_counter()
    proc = psutil.Popen([LINTRANK, "check", "--format", "json", "--quiet", *args], cwd=cwd,
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak_main = peak_tree = 0
    out_chunks: list[str] = []
    reader = threading.Thread(target=lambda: out_chunks.append(proc.stdout.read()))
    reader.start()
    while proc.poll() is None:
        try:
            main = proc.memory_info().rss
            tree = main + sum(c.memory_info().rss for c in proc.children(recursive=True))
        except psutil.Error:
            main = tree = 0
        peak_main, peak_tree = max(peak_main, main), max(peak_tree, tree)
        time.sleep(0.1)
    reader.join()
    seconds = time.perf_counter() - started
    err = proc.stderr.read()
    if proc.returncode not in (0, 1):
        raise SystemExit(f"lintrank failed ({proc.returncode}): {err}")
    return {"seconds": seconds, "report": json.loads("".join(out_chunks)),
            "rss_main": peak_main / 2**20, "rss_tree": peak_tree / 2**20}


def ident(f: dict) -> tuple:
    return (f["tool"], f["code"], f["path"], f["line"], f["column"], f["message"])


def top_decile(report: dict) -> set[tuple]:
    """Findings scoring at least the score at the 10% rank (ties included)."""
    ranked = sorted(report["findings"], key=lambda f: -f["score"])
    if not ranked:
        return set()
    cut = ranked[max(math.ceil(len(ranked) * 0.1) - 1, 0)]["score"]
    return {ident(f) for f in ranked if f["score"] >= cut}


def oracle(reference: set[tuple], lines: dict[str, int], costs: CostModel,
           share: float) -> float:
    """What knowing every file's top-decile findings in advance would find with the
    same share of the (estimated) analysis cost, each analyzer's start-up paid once
    per core: a loose ceiling for any ordering (batches pay it more often)."""
    gain: dict[tuple[str, str], int] = {}
    for tool, _, path, *_ in reference:
        gain[(tool, path)] = gain.get((tool, path), 0) + 1
    cost = {(t, p): costs.estimate(t, n) for p, n in lines.items()
            for t in ("flake8", "pylint")}
    # Each analyzer's start-up is paid at least once per core (2 here).
    budget = share * sum(cost.values()) - 2 * sum(costs.per_call(t) for t in ("flake8", "pylint"))
    found = 0
    for key in sorted(gain, key=lambda k: -gain[k] / cost.get(k, 1e-9)):
        if cost.get(key, 0.0) <= budget:
            budget -= cost.get(key, 0.0)
            found += gain[key]
    return found / max(len(reference), 1)


def touch_config(tree: Path, n: object) -> None:
    """A config-file change: every cached result is invalid, past outcomes are not."""
    with open(tree / "tox.ini", "a", encoding="utf-8") as handle:
        handle.write(f"\n# lintrank benchmark {n}\n")


def round_cache(tree: Path, model: list[str], budgets: list[str], n: int, quiet: float
                ) -> dict[str, float]:
    """One round of cold / warm / edits / budget on ``tree``; return measurements."""
    cache = Path(tempfile.mkdtemp(prefix="lr-bench-cache-"))
    base = ["--tools", "flake8,pylint", "--cache-dir", str(cache), *model]
    wait_quiet(quiet)
    load = os.getloadavg()[0]
    cold = run(base, tree)
    out = {"cold": cold["seconds"], "warm": run(base, tree)["seconds"],
           "files": cold["report"]["summary"]["files"],
           "cold rss lintrank MiB": cold["rss_main"], "cold rss all MiB": cold["rss_tree"],
           "findings": cold["report"]["summary"]["findings"], "cold load before": load,
           "cold load after": os.getloadavg()[0]}
    files = sorted(p.relative_to(tree).as_posix() for p in tree.rglob("*.py"))
    picks = random.Random(n).sample(files, SAMPLE)
    for label, rels in (("random file", picks), ("imported module", [IMPORTED])):
        seconds, redone = [], []
        for rel in rels:
            path = tree / rel
            original = path.read_bytes()
            # A code change (not a comment), so pylint's importers are invalidated too.
            path.write_bytes(original + f"\n_lintrank_benchmark_edit = {n}\n".encode())
            edited = run(base, tree)
            seconds.append(edited["seconds"])
            redone.append(sum(edited["report"]["summary"]["analysed"].values()))
            path.write_bytes(original)
        out[f"edit {label}"] = statistics.median(seconds)
        out[f"edit {label} reanalysed"] = statistics.median(redone)
    if not budgets:  # --skip budget
        shutil.rmtree(cache, ignore_errors=True)
        return out
    reference = top_decile(cold["report"])
    out["top decile"] = len(reference)
    handle = Cache(cache)
    costs = CostModel(handle)
    handle.close()
    lines = {rel: (tree / rel).read_bytes().count(b"\n") + 1 for rel in files}
    runs = []
    for share in budgets:
        touch_config(tree, f"{n}-{share}")
        wait_quiet(quiet)
        runs.append((f"informed {share}", run([*base, "--budget", share], tree)))
        out[f"budget informed {share} load after"] = os.getloadavg()[0]
    runs.append((f"fresh {budgets[0]}", run(["--tools", "flake8,pylint", "--no-cache", *model,
                                             "--budget", budgets[0]], tree)))
    for label, result in runs:
        found = {ident(f) for f in result["report"]["findings"]}
        out[f"budget {label} found"] = len(reference & found) / max(len(reference), 1)
        out[f"budget {label} time"] = result["seconds"] / cold["seconds"]
        out[f"budget {label} skipped"] = sum(
            map(len, result["report"]["summary"]["skipped"].values()))
        out[f"budget {label} oracle"] = oracle(reference, lines, costs,
                                               out[f"budget {label} time"])
    shutil.rmtree(cache, ignore_errors=True)
    return out


def wait_quiet(limit: float) -> float:
    """Wait up to ``limit`` seconds for the machine's CPUs to be mostly idle (other
    work on a shared machine skews a 2-vs-1 comparison); return the busy share."""
    deadline = time.monotonic() + limit
    busy = psutil.cpu_percent(interval=2.0)
    while busy > QUIET and time.monotonic() < deadline:
        busy = psutil.cpu_percent(interval=2.0)
    return busy


def round_dask(tree: Path, model: list[str], quiet: float) -> dict[str, float]:
    """pylint-only work on 1 vs 2 LocalCluster workers, no cache."""
    args = ["--tools", "pylint", "--no-cache", "--executor", "dask", *model]
    busy = wait_quiet(quiet)
    load = os.getloadavg()[0]
    one = run([*args, "--dask-workers", "1", "--jobs", "1"], tree)
    busy = max(busy, wait_quiet(quiet))
    two = run([*args, "--dask-workers", "2", "--jobs", "2"], tree)

    # Batches differ with --jobs, and so do pylint's whole-run checks (cycles and
    # duplicates are only seen within a batch): compare the per-file findings.
    def per_file(report: dict) -> list[tuple]:
        return sorted(ident(f) for f in report["findings"]
                      if f["code"] not in ("R0401", "R0801"))

    same = per_file(one["report"]) == per_file(two["report"])
    return {"dask 1 worker": one["seconds"], "dask 2 workers": two["seconds"],
            "dask same per-file findings": float(same), "dask cpu busy before %": busy,
            "dask load before": load, "dask load after": os.getloadavg()[0]}


def model_args(tmp: Path, given: str | None) -> list[str]:
    """The shipped model (or a baseline rebuilt for this schema if it does not load),
    and a config without explanations: JSON turns them on, the default text output
    (what the targets are about) does not compute them."""
    config = tmp / "lintrank.toml"
    config.write_text("[tool.lintrank]\nexplain = false\n", encoding="utf-8")
    if given:
        return ["--model", given, "--config", str(config)]
    from lintrank.core.exceptions import ModelError
    from lintrank.core.onnx_model import load_model
    from lintrank.models import DEFAULT_MODEL

    try:
        load_model(str(DEFAULT_MODEL))
        return ["--config", str(config)]
    except ModelError as exc:
        from lintrank.core.baseline import build

        print(f"note: shipped model unusable ({exc.problem}); using a rebuilt baseline")
        build(str(tmp / "baseline.onnx"))
        return ["--model", str(tmp / "baseline.onnx"), "--config", str(config)]


def median(rows: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", help="project folder to use (default: pytest's src+testing)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--budget", default="25%,33%,50%", help="comma list of budgets")
    parser.add_argument("--big-files", type=int, default=5000)
    parser.add_argument("--skip", default="", help="comma list of: cache,budget,dask,ceiling,rss")
    parser.add_argument("--model")
    parser.add_argument("--quiet-wait", type=float, default=180.0,
                        help="seconds to wait for an idle machine before the cold, budget "
                        "and Dask runs (0: do not wait)")
    opts = parser.parse_args()
    skip = set(filter(None, opts.skip.split(",")))
    tmp = Path(tempfile.mkdtemp(prefix="lr-bench-"))
    model = model_args(tmp, opts.model)
    tree = Path(opts.tree) if opts.tree else tmp / "main"
    if not opts.tree:
        for repo, paths in MAIN.items():
            extract(repo, paths, tree)
    print(f"cpus: {os.cpu_count()}, load: {os.getloadavg()[0]:.2f}, tree: {tree}")
    if "cache" not in skip:
        budgets = [] if "budget" in skip else opts.budget.split(",")
        rows = [round_cache(tree, model, budgets, n, opts.quiet_wait)
                for n in range(opts.repeat)]
        for key in rows[0]:
            print(f"  {key:36} {[round(r[key], 3) for r in rows]}")
        cold = median(rows, "cold")
        print(f"{rows[0]['files']} files, {rows[0]['findings']} findings; "
              f"cold {cold:.1f} s (median of {opts.repeat})")
        print(f"warm vs cold:               {cold / median(rows, 'warm'):6.1f}x faster")
        print(f"peak RSS, cold: lintrank {median(rows, 'cold rss lintrank MiB'):.0f} MiB, "
              f"with analyzer processes {median(rows, 'cold rss all MiB'):.0f} MiB")
        for label in ("random file", "imported module"):
            print(f"one file edited ({label}): {cold / median(rows, 'edit ' + label):6.1f}x "
                  f"faster ({median(rows, f'edit {label} reanalysed'):.0f} analyser-files "
                  "re-analysed)")
        for label in [f"informed {b}" for b in budgets] + [f"fresh {b}" for b in budgets[:1]]:
            print(f"budget {label}: "
                  f"{100 * median(rows, f'budget {label} found'):.0f}% of "
                  f"{median(rows, 'top decile'):.0f} top-decile findings in "
                  f"{100 * median(rows, f'budget {label} time'):.0f}% of the full run's time "
                  f"(an oracle ordering: {100 * median(rows, f'budget {label} oracle'):.0f}%)")
    for name, projects in ({} if "dask" in skip else DASK).items():
        several = tmp / f"dask-{name}"
        for repo, paths in projects.items():
            extract(repo, paths, several / repo)
        print(f"dask tree ({name}): {sum(1 for _ in several.rglob('*.py'))} files from "
              f"{len(projects)} projects")
        rows = [round_dask(several, model, opts.quiet_wait) for _ in range(opts.repeat)]
        if "ceiling" not in skip:
            wait_quiet(opts.quiet_wait)
            bound = pylint_ceiling(several, rounds=opts.repeat)
            print(f"  pylint alone, CPU s (medians): one process "
                  f"{bound['one process cpu']:.1f}, the engine's {bound['batches']:.0f} "
                  f"batches {bound['batches cpu']:.1f} "
                  f"(costliest {bound['costliest batch cpu']:.1f}): ceiling "
                  f"{bound['ceiling']:.2f}x for 2 workers (median of per-round ratios)")
        for key in rows[0]:
            print(f"  {key:36} {[round(r[key], 3) for r in rows]}")
        print(f"dask LocalCluster 2 workers vs 1 (pylint only, {name} projects): "
              f"{median(rows, 'dask 1 worker') / median(rows, 'dask 2 workers'):.2f}x "
              f"(per round: {[round(r['dask 1 worker'] / r['dask 2 workers'], 2) for r in rows]}"
              f", load {os.getloadavg()[0]:.2f})")
    if "rss" not in skip:
        big = tmp / "big"
        count = build_big(big, opts.big_files)
        cold = run(["--tools", "flake8", "--no-cache", *model], big)
        print(f"peak RSS, {count} files, flake8, cold: lintrank {cold['rss_main']:.0f} MiB, "
              f"with analyzer processes {cold['rss_tree']:.0f} MiB, "
              f"{cold['report']['summary']['findings']} findings, {cold['seconds']:.0f} s")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
