"""What the reliability guards cost and what they bound (issue 7).

Usage: python benchmarks/reliability.py [--modules 200] [--timeout 2]

1. A 10 MB generated module next to a small project: plain ``flake8`` on it, and
   ``lintrank check --tools flake8 --timeout T`` (the per-file limit turns it into
   one LR903 finding; the run's wall time is bounded by about 3 T plus the rest).
2. A broken analyzer configuration: ``lintrank check`` with 16 and 64 files; the
   empty-file probe reports every file at once, so the time does not grow with the
   number of files (bisection would run flake8 2n-1 times).
3. The in-process input checks on every run: LR904 decoding and, in budget mode,
   the syntax check (cold, then warm from the cache).
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _tree import generated_tree  # noqa: E402

BIN = Path(sys.executable).parent
PROJECT = '[project]\nname = "bench"\nversion = "0"\n'


def timed(argv: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   check=False)
    return time.perf_counter() - start


def huge_module(path: Path, size: int = 10_000_000) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        written, i = 0, 0
        while written < size:
            written += handle.write(f"value_{i} = {i} * 2\n")
            i += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modules", type=int, default=200)
    parser.add_argument("--timeout", type=float, default=2.0)
    args = parser.parse_args()
    from lintrank.core.baseline import build
    from lintrank.core.cache import Cache
    from lintrank.core.encoding import check, syntax_broken
    from lintrank.core.files import discover

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        model = str(root / "baseline.onnx")
        build(model)
        lintrank = [str(BIN / "lintrank"), "check", "--quiet", "--no-cache", "--model", model,
                    "--tools", "flake8", "--format", "json"]

        big = root / "big"
        big.mkdir()
        (big / "pyproject.toml").write_text(PROJECT, encoding="utf-8")
        generated_tree(big, 20)
        huge_module(big / "generated_10mb.py")
        flake8 = timed([str(BIN / "flake8"), "generated_10mb.py"], big)
        bounded = timed([*lintrank, "--timeout", f"{args.timeout:g}", "--jobs", "1"], big)
        print(f"10 MB module: plain flake8 {flake8:.1f} s; lintrank --timeout "
              f"{args.timeout:g} (21 files, one batch) {bounded:.1f} s")

        for count in (16, 64):
            broken = root / f"broken{count}"
            broken.mkdir()
            (broken / "pyproject.toml").write_text(PROJECT, encoding="utf-8")
            (broken / ".flake8").write_text("[flake8]\nmax-line-length = abc\n",
                                            encoding="utf-8")
            for i in range(count):
                (broken / f"m{i}.py").write_text("import os\n", encoding="utf-8")
            seconds = timed([*lintrank, "--jobs", "1"], broken)
            print(f"broken flake8 config, {count} files: {seconds:.1f} s")

        tree = root / "tree"
        tree.mkdir()
        generated_tree(tree, args.modules)
        files = discover(["."], str(tree))
        lines = sum((tree / f).read_bytes().count(b"\n") for f in files)
        start = time.perf_counter()
        check(files, str(tree))
        decode = time.perf_counter() - start
        cache = Cache(root / "cache")
        timings = []
        for _ in ("cold", "warm"):
            start = time.perf_counter()
            syntax_broken(files, str(tree), cache)
            timings.append(time.perf_counter() - start)
        cache.close()
        print(f"input checks, {len(files)} files / {lines} lines: LR904 {decode * 1000:.0f} ms; "
              f"budget syntax check cold {timings[0] * 1000:.0f} ms, "
              f"warm {timings[1] * 1000:.0f} ms")


if __name__ == "__main__":
    main()
