"""The Language Server: document events in, ranked diagnostics out (pygls).

Open and save analyse at once; edits are debounced, so a burst of keystrokes
costs one analysis, and a result for a version the user has already changed
is dropped. Analyses run on a worker thread, one at a time, so the server
keeps answering while an analyzer runs.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import os

from lintrank.core import __version__, explain, feedback
from lintrank.core.config import find_root
from lintrank.core.exceptions import LintrankError
from lintrank.core.finding import ScoredFinding
from lintrank.core.lsp.analysis import Workspace
from lintrank.core.reporters.base import band
from lsprotocol import types
from pygls.lsp.server import LanguageServer

#: The command the feedback quick fixes run (also callable by any client).
FEEDBACK_COMMAND = "lintrank.feedback"
#: Seconds of quiet after an edit before the document is analysed.
DEBOUNCE = 0.5
_SEVERITY = {"high": types.DiagnosticSeverity.Error,
             "medium": types.DiagnosticSeverity.Warning,
             "low": types.DiagnosticSeverity.Information}


class LintrankServer(LanguageServer):
    """Holds one :class:`Workspace` per project root and the pending analyses."""

    def __init__(self) -> None:
        super().__init__("lintrank", __version__,
                         text_document_sync_kind=types.TextDocumentSyncKind.Incremental)
        self.options: dict = {}
        self.debounce = DEBOUNCE
        self.workspaces: dict[str, Workspace] = {}
        self.pending: dict[str, asyncio.Task] = {}
        self.worker = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="lintrank")

    def workspace_for(self, path: str) -> Workspace:
        root = find_root([path])
        old = self.workspaces.get(root)
        if old is None or old.stale():  # pyproject.toml or the project model changed
            if old is not None:
                old.close()
            self.workspaces[root] = Workspace(root, self.options)
        return self.workspaces[root]

    def schedule(self, uri: str, delay: float) -> None:
        """(Re)start the analysis of ``uri`` after ``delay`` seconds."""
        old = self.pending.pop(uri, None)
        if old:
            old.cancel()
        self.pending[uri] = asyncio.get_running_loop().create_task(self._publish(uri, delay))

    async def _publish(self, uri: str, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        doc = self.workspace.get_text_document(uri)
        if not doc.path or not doc.path.endswith((".py", ".pyi")):
            return
        version, text = doc.version, doc.source
        loop = asyncio.get_running_loop()
        try:
            results, rel = await loop.run_in_executor(self.worker, self._analyse, doc.path, text)
        except LintrankError as exc:
            self.window_log_message(types.LogMessageParams(types.MessageType.Error,
                                                           f"lintrank: {exc}"))
            return
        except Exception as exc:  # noqa: BLE001 - one bad document must not stop the server
            self.window_log_message(types.LogMessageParams(
                types.MessageType.Error, f"lintrank: internal error on {doc.path}: "
                                         f"{type(exc).__name__}: {exc}"))
            return
        current = self.workspace.get_text_document(uri)
        if current.version != version:
            return  # the user typed on; the newer analysis is already scheduled
        diagnostics = [diagnostic(item, doc) for item in results
                       if item.kept and os.path.normpath(item.finding.path) == rel]
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
            uri=uri, version=version, diagnostics=diagnostics))

    def record(self, uri: object, line: object, code: object, tool: object,
               useful: object) -> str:
        """Append a verdict to the project's ``.lintrank/feedback.jsonl``; return its path."""
        doc = self.workspace.get_text_document(str(uri))
        root = find_root([doc.path])
        number = int(str(line))
        lines = doc.lines
        text = lines[number - 1] if 0 < number <= len(lines) else ""
        entry = feedback.make(os.path.relpath(doc.path, root), number, str(code),
                              bool(useful), text, tool=str(tool))
        where = str(feedback.record(root, [entry]))
        self.window_show_message(types.ShowMessageParams(
            types.MessageType.Info, f"lintrank: recorded {code} as "
            f"{'useful' if useful else 'not useful'} in {where}"))
        return where

    def _analyse(self, path: str, text: str) -> tuple[list[ScoredFinding], str]:
        ws = self.workspace_for(path)
        rel = os.path.normpath(os.path.relpath(path, ws.root))
        return ws.analyse(rel, text), rel


def diagnostic(item: ScoredFinding, doc) -> types.Diagnostic:  # type: ignore[no-untyped-def]
    """One ranked finding as an LSP diagnostic: score band, explanation, help link."""
    f = item.finding
    lines = doc.lines
    line = min(max(f.line, 1), max(len(lines), 1)) - 1
    text = lines[line].rstrip("\r\n") if line < len(lines) else ""
    end_line = (f.end_line or f.line) - 1
    end_col = f.end_column if f.end_line and f.end_column is not None else len(text)
    if (end_line, end_col) <= (line, f.column):
        end_line, end_col = line, max(len(text), f.column + 1)
    start = types.Position(line, f.column)
    span = doc.range_to_client_units(types.Range(start, types.Position(end_line, end_col)))
    why = explain.summary(item.explanation)
    info = explain.help_for(f)
    return types.Diagnostic(
        range=span, severity=_SEVERITY[band(item.score, item.protected)],
        code=f.code, source=f"lintrank/{f.tool}",
        code_description=types.CodeDescription(href=info["uri"]),
        message=f"{f.message} [score {item.score:.2f}]" + (f"\nwhy: {why}" if why else ""),
        data={"score": round(item.score, 6), "protected": item.protected,
              "explanation": explain.records(item.explanation), "help": info})


def feedback_actions(params: types.CodeActionParams) -> list[types.CodeAction]:
    """Quick fixes recording "useful" / "not useful" for lintrank's diagnostics."""
    actions = []
    for diag in params.context.diagnostics:
        if not (diag.source or "").startswith("lintrank/"):
            continue
        tool = diag.source.split("/", 1)[1]
        for useful, words in ((False, "not useful here"), (True, "useful")):
            title = f"lintrank: {diag.code} is {words} (record feedback)"
            actions.append(types.CodeAction(
                title=title, kind=types.CodeActionKind.QuickFix, diagnostics=[diag],
                command=types.Command(title=title, command=FEEDBACK_COMMAND, arguments=[
                    params.text_document.uri, diag.range.start.line + 1, str(diag.code),
                    tool, useful])))
    return actions


def build_server() -> LintrankServer:
    """A server with every handler registered (a new one per call, for tests)."""
    server = LintrankServer()

    @server.feature(types.INITIALIZE)
    def initialize(ls: LintrankServer, params: types.InitializeParams) -> None:
        options = dict(params.initialization_options or {})
        ls.debounce = float(options.pop("debounce", DEBOUNCE))
        ls.options = options

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: LintrankServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri, 0.0)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: LintrankServer, params: types.DidSaveTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri, 0.0)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: LintrankServer, params: types.DidChangeTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri, ls.debounce)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: LintrankServer, params: types.DidCloseTextDocumentParams) -> None:
        task = ls.pending.pop(params.text_document.uri, None)
        if task:
            task.cancel()
        ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
            uri=params.text_document.uri, diagnostics=[]))

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(
        code_action_kinds=[types.CodeActionKind.QuickFix]))
    def code_action(ls: LintrankServer, params: types.CodeActionParams
                    ) -> list[types.CodeAction]:
        return feedback_actions(params)

    @server.command(FEEDBACK_COMMAND)
    def record_feedback(ls: LintrankServer, *args: object) -> str:
        return ls.record(*args)

    @server.feature(types.SHUTDOWN)
    def shutdown(ls: LintrankServer, params: None) -> None:
        for ws in ls.workspaces.values():
            ws.close()

    return server
