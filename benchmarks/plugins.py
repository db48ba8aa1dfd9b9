"""Wall-time overhead of the flake8 formatter and the pylint plugin against plain runs.

Usage: python benchmarks/plugins.py [--repo pallets+flask] [--generated 300] [--runs 3]
                                    [--pylint-paths src] [--model PATH] [--history]

On one tree, in one process run, alternating: plain ``flake8`` vs ``flake8
--format=lintrank`` and plain ``pylint`` vs ``pylint --load-plugins=lintrank.plugins.pylint``
(both with lintrank installed, as users have it). "cold" starts from an empty lintrank
score cache, "warm" re-runs with the cache of the previous run, "hist" from a cache
holding only the git history of HEAD, "cold-nohist" from an empty cache with
``history = false`` (see :func:`compare`). Medians are compared.
Targets (issue 3): flake8 <= 1.10x cold and <= 1.03x warm; pylint <= 1.03x.
The tree is a snapshot (``git archive HEAD``) of a training-corpus mirror, deleted
afterwards, or this repository's own code when no mirror exists, plus generated noisy
modules. ``--history`` clones the mirror instead, so lintrank's git-history features are
computed too (one ``git log`` pass over the whole history per run).
"""
from __future__ import annotations

import argparse
import contextlib
import os
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _install import precompile  # noqa: E402
from _tree import MIRRORS, clone_mirror, generated_tree  # noqa: E402
from lintrank.core.cache import DB_NAME  # noqa: E402

BIN = Path(sys.executable).parent
HERE = Path(__file__).resolve().parent.parent


def snapshot(repo: str, dest: Path) -> Path | None:
    """Extract the mirror's HEAD without its git history; None when it is absent."""
    for candidate in (MIRRORS / repo / "repo", MIRRORS / repo / "repo" / ".git"):
        if candidate.exists():
            dest.mkdir(parents=True)
            archive = subprocess.run(["git", "-C", str(candidate), "archive", "HEAD"],
                                     capture_output=True, check=True).stdout
            subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
            return dest
    return None


def timed(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """(wall, CPU) seconds for one run; a run that crashes aborts the benchmark.

    CPU time (user + system of the process and the workers it waited for) is far
    less disturbed than wall time by other work on a shared machine.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False,
                          env=env)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode >= 32 or "critical error" in proc.stdout or "Traceback" in proc.stderr:
        raise SystemExit(f"{argv[0]} failed ({proc.returncode}): "
                         f"{(proc.stdout + proc.stderr)[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu


def usable_model(requested: str | None, tmp: Path) -> tuple[str | None, str]:
    """The model to benchmark with: --model, the shipped one, else a fresh baseline."""
    from lintrank.core.exceptions import ModelError
    from lintrank.core.onnx_model import load_model
    from lintrank.models import DEFAULT_MODEL

    if requested:
        return os.path.abspath(requested), requested
    try:
        load_model(str(DEFAULT_MODEL))
        return None, f"shipped {DEFAULT_MODEL.name}"
    except ModelError as exc:
        from lintrank.core.baseline import build

        out = tmp / "baseline.onnx"
        build(str(out))
        return str(out), f"fresh severity baseline (shipped model unusable: {exc.problem})"


def keep_history_only(cache: Path) -> None:
    """Empty the cache but for its git-history entries (``history:...``, keyed by HEAD)."""
    db = sqlite3.connect(cache / DB_NAME)
    try:
        with db:
            for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'"
                                       ).fetchall():
                db.execute(f"DELETE FROM {table}" + (" WHERE key NOT LIKE 'history:%'"
                                                     if table == "derived" else ""))
    finally:
        db.close()


def drop_tally(cache: Path) -> None:
    """Forget the history counts of the last HEAD (``history-tally:...``)."""
    db = sqlite3.connect(cache / DB_NAME)
    try:
        with db:
            db.execute("DELETE FROM derived WHERE key LIKE 'history-tally:%'")
    finally:
        db.close()


@contextlib.contextmanager
def history_off(root: Path) -> Iterator[None]:
    """``history = false`` in ``[tool.lintrank]`` of the tree's pyproject.toml for the
    block (no git history, last change or line recency is read); the file is restored
    byte for byte afterwards (or removed, where there was none)."""
    path = root / "pyproject.toml"
    before = path.read_bytes() if path.exists() else None
    text = before.decode("utf-8") if before is not None else ""
    header = "[tool.lintrank]\n"
    if header in text:  # a key right below the header belongs to that table
        text = text.replace(header, header + "history = false\n", 1)
    else:
        text += "\n" + header + "history = false\n"
    path.write_text(text, encoding="utf-8")
    try:
        yield
    finally:
        if before is None:
            path.unlink()
        else:
            path.write_bytes(before)


def commit_edit(cwd: Path, n: str) -> None:
    """Commit a comment appended to the first tracked module (a new HEAD)."""
    git = ["git", "-C", str(cwd), "-c", "user.name=bench", "-c", "user.email=bench@x"]
    first = subprocess.run([*git, "ls-files", "*.py"], capture_output=True, text=True,
                           check=True).stdout.split("\n")[0]
    with open(cwd / first, "a", encoding="utf-8") as handle:
        handle.write(f"# lintrank benchmark commit {n}\n")
    subprocess.run([*git, "commit", "-qam", f"benchmark {n}"], check=True)


def compare(name: str, plain: list[str], ranked: list[str], cwd: Path, env: dict[str, str],
            cache: Path, runs: int) -> None:
    """Alternate plain / cold / warm / (commit) / hist runs; print medians and ratios
    (wall, CPU).

    "cold" starts from no lintrank cache at all; "hist" from a cache holding only the
    git history of this HEAD (a later run on the same commit after every finding
    changed: no ranking to recall, no feature rows or scores cached), with --history.
    With --history, "commit" runs after a commit on top of a warm cache (a pre-commit
    hook's case: every run follows a new HEAD), and "commit-whole" after another one
    with the last HEAD's history counts dropped, as before they were kept; and
    "cold-nohist" from no cache with ``history = false``: what scoring costs without
    any git-derived feature, the least a cold run could cost with a git-free model.
    """
    timed(plain, cwd, env)  # warm the OS file cache and .pyc files for all variants
    history = (cwd / ".git").exists()
    times: dict[str, list[tuple[float, float]]] = {
        "plain": [], "cold": [], "warm": [],
        **({"commit": [], "commit-whole": []} if history else {}), "hist": [],
        **({"cold-nohist": []} if history else {})}
    for n in range(runs):
        times["plain"].append(timed(plain, cwd, env))
        shutil.rmtree(cache, ignore_errors=True)
        times["cold"].append(timed(ranked, cwd, env))
        times["warm"].append(timed(ranked, cwd, env))
        if history:
            commit_edit(cwd, f"{name} {n}")
            times["commit"].append(timed(ranked, cwd, env))
            commit_edit(cwd, f"{name} {n} whole")
            drop_tally(cache)
            times["commit-whole"].append(timed(ranked, cwd, env))
        keep_history_only(cache)
        times["hist"].append(timed(ranked, cwd, env))
        if history:
            shutil.rmtree(cache, ignore_errors=True)
            with history_off(cwd):
                times["cold-nohist"].append(timed(ranked, cwd, env))
    wall0 = statistics.median(t[0] for t in times["plain"])
    cpu0 = statistics.median(t[1] for t in times["plain"])
    for label, runs_ in times.items():
        wall = statistics.median(t[0] for t in runs_)
        cpu = statistics.median(t[1] for t in runs_)
        print(f"{name:<14} {label:<12} wall {wall:6.2f} s ({wall / wall0:5.3f}x)  "
              f"cpu {cpu:6.2f} s ({cpu / cpu0:5.3f}x)  wall runs "
              f"{' '.join(f'{t[0]:.2f}' for t in runs_)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", default="pallets+flask",
                        help="mirror under $LINTRANK_MIRRORS to clone (owner+name)")
    parser.add_argument("--generated", type=int, default=300,
                        help="generated noisy modules added to the tree (flake8 run)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pylint-paths", nargs="+", default=["src"],
                        help="what pylint checks, relative to the tree (it is slow)")
    parser.add_argument("--model", help="ONNX model (default: the shipped one)")
    parser.add_argument("--skip", choices=("flake8", "pylint"), help="leave one out")
    parser.add_argument("--history", action="store_true",
                        help="clone with git history instead of a snapshot")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lintrank-plugins-") as tmp_name:
        tmp = Path(tmp_name)
        root = tmp / "tree"
        source = f"{args.repo} ({'clone with history' if args.history else 'snapshot'})"
        if not (clone_mirror if args.history else snapshot)(args.repo, root):
            shutil.copytree(HERE, root, ignore=shutil.ignore_patterns(
                ".git", ".venv", "*.egg-info", ".lintrank_cache"))
            source = "this repository (no mirror found)"
            args.pylint_paths = ["core", "plugins"]
        generated_tree(root, args.generated)
        model, about = usable_model(args.model, tmp)
        if model:
            with open(root / "pyproject.toml", "a", encoding="utf-8") as handle:
                handle.write(f'\n[tool.lintrank]\nmodel = "{model}"\n')
        cache = tmp / "cache"
        env = {k: v for k, v in os.environ.items() if k != "LINTRANK_SOURCE_RUN"}
        env.update(LINTRANK_CACHE_DIR=str(cache), PYLINTHOME=str(tmp / "pylint.d"))
        print(f"tree: {source} + {args.generated} generated modules = "
              f"{len(list(root.rglob('*.py')))} files; model: {about}; runs: {args.runs}; "
              f"pylint checks {' '.join(args.pylint_paths)}")
        print("targets: flake8 cold <= 1.10x, warm <= 1.03x; pylint <= 1.03x (medians)")
        print(precompile())
        if args.skip != "flake8":
            flake8 = [str(BIN / "flake8"), "."]
            compare("flake8", flake8, [*flake8, "--format=lintrank"], root, env, cache,
                    args.runs)
        if args.skip != "pylint":
            pylint = [str(BIN / "pylint"), "--persistent=n", *args.pylint_paths]
            compare("pylint", pylint,
                    [*pylint, "--load-plugins=lintrank.plugins.pylint"], root, env, cache,
                    args.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
