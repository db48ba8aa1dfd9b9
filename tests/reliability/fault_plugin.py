"""Source text of a fake plugin distribution: analyzers that fail in every way.

Installed under ``tmp_path`` by the tests (a real ``*.dist-info`` with a
``lintrank`` entry point on PYTHONPATH); lintrank loads it like any user plugin.
"""

SOURCE = r'''
import json
import os
import sys

from lintrank.core.finding import Finding
from lintrank.core.hookspecs import hookimpl
from lintrank.core.sources import run_command
from lintrank.plugins.flake8_source import Flake8Source

#: The analyzer subprocess: one FK001 per file; markers in a file make it misbehave.
SCRIPT = """
import json, os, signal, sys, time
out = []
for path in sys.argv[1:]:
    text = open(path, encoding="utf-8", errors="replace").read()
    if "SEGFAULT" in text:
        os.kill(os.getpid(), signal.SIGSEGV)
    if "HANG" in text:
        if os.environ.get("LRT_PIDFILE"):
            with open(os.environ["LRT_PIDFILE"], "w") as fh:
                fh.write(str(os.getpid()))
        time.sleep(600)
    if "BADEXIT" in text:
        sys.stderr.write("faulty: internal error on " + path + "\\n")
        sys.exit(3)
    out.append({"path": path, "line": 1, "code": "FK001", "message": "fake finding"})
print(json.dumps(out))
"""


class Faulty:
    """A real subprocess analyzer, plus an in-process bug on PLUGINBUG files."""

    name = "faulty"

    def available(self):
        return True

    def version(self):
        return "faulty:1"

    def config_fingerprint(self, root):
        return ""

    def run(self, files, root, timeout):
        for rel in files:
            with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as fh:
                if "PLUGINBUG" in fh.read():
                    raise RuntimeError(f"plugin bug on {rel}")
        out = run_command(self.name, [sys.executable, "-c", SCRIPT, *files], root, timeout)
        return [Finding(tool=self.name, code=d["code"], message=d["message"],
                        path=os.path.normpath(d["path"]), line=d["line"], severity="warning")
                for d in json.loads(out)]


class Missing(Faulty):
    """An analyzer whose executable is not installed."""

    name = "missing"

    def run(self, files, root, timeout):
        run_command(self.name, ["/nonexistent/bin/missing-analyzer", *files], root, timeout)
        return []


class Unavailable(Faulty):
    name = "unavailable"

    def available(self):
        return False


class MutatingFlake8(Flake8Source):
    """Real flake8; first changes the files named in $LRT_MUTATE (path=kind,...).

    This lands between lintrank reading a file and the analyzer reading it: the
    file vanishes, turns into a dangling link, or into a FIFO that blocks a reader.
    """

    def run(self, files, root, timeout):
        for item in filter(None, os.environ.get("LRT_MUTATE", "").split(",")):
            rel, kind = item.split("=")
            path = os.path.join(root, rel)
            if not os.path.isfile(path) or os.path.islink(path):
                continue  # already mutated by an earlier batch
            os.unlink(path)
            if kind == "fifo":
                os.mkfifo(path)
            elif kind == "dangling":
                os.symlink("gone-for-good.py", path)
        return super().run(files, root, timeout)


class WorkerKiller(Faulty):
    """Kills the Dask worker process running it on KILLWORKER files, while the
    marker file $LRT_KILL_MARKER holds a count above zero (one death per count)."""

    name = "killer"

    def run(self, files, root, timeout):
        marker = os.environ.get("LRT_KILL_MARKER", "")
        if marker and _in_dask_worker() and any(_has(root, f, "KILLWORKER") for f in files):
            with open(marker, "r+", encoding="utf-8") as fh:
                left = int(fh.read() or 0)
                fh.seek(0)
                fh.truncate()
                fh.write(str(left - 1))
            if left > 0:
                os.kill(os.getpid(), 9)  # the worker dies mid-task, like an OOM kill
        return super().run(files, root, timeout)


def _has(root, rel, text):
    with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as fh:
        return text in fh.read()


def _in_dask_worker():
    try:
        from distributed import get_worker
        get_worker()
    except (ImportError, ValueError):
        return False
    return True


@hookimpl
def lintrank_add_findings(files, root):
    if os.environ.get("LRT_ADD_FINDINGS_BUG"):
        raise RuntimeError("bug in a plugin's lintrank_add_findings")
    return None


@hookimpl
def lintrank_sources():
    return [Faulty(), Missing(), Unavailable(), MutatingFlake8(), WorkerKiller()]
'''
