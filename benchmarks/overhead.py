"""Wall-time overhead of `lintrank check --tools flake8` against plain `flake8`.

Usage: python benchmarks/overhead.py [--repo pallets+flask] [--generated 300] [--runs 3]

Both commands run on the same tree in the same process run, alternating, and the medians
are compared. "cold" starts from an empty lintrank cache (analyzer results and scores);
"warm" re-runs on the unchanged tree with the cache of the previous run. Targets
(issue 2): cold <= 1.25x, warm <= 1.05x of plain flake8. lintrank's modules are first
compiled to bytecode, as ``pip install`` does (see ``_install.py``).
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _install import precompile  # noqa: E402
from _tree import clone_mirror, generated_tree  # noqa: E402

BIN = Path(sys.executable).parent


def timed(argv: list[str], cwd: Path) -> float:
    """Seconds for one run; a run that fails (exit status >= 2) aborts the benchmark."""
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{argv[0]} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", default="pallets+flask",
                        help="mirror under $LINTRANK_MIRRORS to clone (owner+name)")
    parser.add_argument("--generated", type=int, default=300,
                        help="generated modules added to the tree")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--format", default="text",
                        help="lintrank output format (json adds explanations)")
    args = parser.parse_args()
    print(precompile())
    with tempfile.TemporaryDirectory(prefix="lintrank-overhead-") as tmp:
        root = Path(tmp) / "tree"
        if not clone_mirror(args.repo, root):
            # No mirror: this repository's own code stands in for a real project.
            shutil.copytree(Path(__file__).resolve().parent.parent, root,
                            ignore=shutil.ignore_patterns(".git", ".venv", "*.egg-info"))
        generated_tree(root, args.generated)
        files = len(list(root.rglob("*.py")))
        cache = Path(tmp) / "cache"
        lintrank = [str(BIN / "lintrank"), "check", "--tools", "flake8",
                    "--format", args.format, "--quiet", "--cache-dir", str(cache), "."]
        flake8 = [str(BIN / "flake8"), "."]
        timed(flake8, root)  # warm the OS file cache for both
        plain, cold, warm = [], [], []
        for _ in range(args.runs):
            plain.append(timed(flake8, root))
            shutil.rmtree(cache, ignore_errors=True)
            cold.append(timed(lintrank, root))
            warm.append(timed(lintrank, root))
        p, c, w = (statistics.median(x) for x in (plain, cold, warm))
        # Other work on the machine stretches every command, and ratios less: say how
        # busy it was.
        print("load average (1, 5, 15 min) at the end: %.2f %.2f %.2f" % os.getloadavg())
        print(f"tree: {args.repo} clone + {args.generated} generated modules = {files} files;"
              f" lintrank --format {args.format}")
        print(f"plain flake8            median {p:6.2f} s  runs {['%.2f' % x for x in plain]}")
        print(f"lintrank check (cold)   median {c:6.2f} s  ratio {c / p:5.2f}x  (target <= 1.25x)")
        print(f"lintrank check (warm)   median {w:6.2f} s  ratio {w / p:5.2f}x  (target <= 1.05x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
