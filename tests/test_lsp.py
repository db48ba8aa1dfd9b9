"""End to end: a real LSP client (pytest-lsp) talks to `lintrank lsp` over stdio."""
from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any, Union

import pytest
from lintrank.core import feedback

from tests.helpers import SAMPLE, lintrank_exe, write_tree

pytest.importorskip("pygls")
pytest_lsp = pytest.importorskip("pytest_lsp")
from lsprotocol import types  # noqa: E402

URI_TIMEOUT = 120.0


async def start(root: Path, model: str, **options: object) -> Any:
    config = pytest_lsp.ClientServerConfig(
        server_command=[lintrank_exe(), "lsp"],
        server_env={**os.environ, "LINTRANK_CACHE_DIR": str(root / ".lintrank_cache")})
    client = await config.start()
    await client.initialize_session(types.InitializeParams(
        capabilities=pytest_lsp.client_capabilities("visual-studio-code"),
        root_uri=root.as_uri(),
        initialization_options={"model": model, "tools": ["flake8", "pylint"],
                                "threshold": 0.3, **options}))
    return client


async def next_diagnostics(client: Any, uri: str) -> list[types.Diagnostic]:
    """Wait for the next publishDiagnostics for ``uri`` (taken, so the next is new)."""
    deadline = time.monotonic() + URI_TIMEOUT
    while uri not in client.diagnostics:
        assert time.monotonic() < deadline, "no diagnostics published"
        await asyncio.sleep(0.05)
    return list(client.diagnostics.pop(uri))


def code_actions_as_sent(client: Any) -> None:
    """Read code actions as the server sent them.

    lsprotocol's client-side hook takes any result with a ``command`` key for a
    ``Command``, so a ``CodeAction`` carrying a command would arrive mangled;
    editors decide by the key's type, as this hook does.
    """
    converter = client.protocol._converter

    def structure(obj: dict, _: object) -> types.Command | types.CodeAction:
        kind = types.Command if isinstance(obj.get("command"), str) else types.CodeAction
        return converter.structure(obj, kind)

    key = Union[types.Command, types.CodeAction]  # noqa: UP007 - lsprotocol's own key
    converter.register_structure_hook(key, structure)


@pytest.mark.asyncio
async def test_open_change_save_publish_ranked_diagnostics(tmp_path: Path,
                                                           baseline_model_path: str) -> None:
    write_tree(tmp_path, SAMPLE)
    path = tmp_path / "pkg" / "app.py"
    uri, text = path.as_uri(), path.read_text()
    client = await start(tmp_path, baseline_model_path, debounce=0.1)
    try:
        client.text_document_did_open(types.DidOpenTextDocumentParams(
            types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)))
        opened = await next_diagnostics(client, uri)
        codes = {d.code for d in opened}
        # Ranked and filtered: the undefined name is an error, style noise is gone.
        assert {"F821", "E0602"} <= codes and "C0116" not in codes
        top = next(d for d in opened if d.code == "F821")
        assert top.severity == types.DiagnosticSeverity.Error
        assert top.range.start == types.Position(7, 11)
        assert top.source == "lintrank/flake8" and "score 0.90" in top.message
        assert top.data["explanation"][0]["feature"] == "severity"
        assert top.code_description.href.startswith("https://")
        medium = next(d for d in opened if d.code == "F401")
        assert medium.severity == types.DiagnosticSeverity.Warning

        # A quick fix records the team's verdict in .lintrank/feedback.jsonl.
        code_actions_as_sent(client)
        actions = await asyncio.wait_for(client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=uri), range=medium.range,
                context=types.CodeActionContext(diagnostics=[medium]))), URI_TIMEOUT)
        titles = [a.title for a in actions]
        assert titles == ["lintrank: F401 is not useful here (record feedback)",
                          "lintrank: F401 is useful (record feedback)"]
        await asyncio.wait_for(client.workspace_execute_command_async(
            types.ExecuteCommandParams(command=actions[0].command.command,
                                       arguments=actions[0].command.arguments)), URI_TIMEOUT)
        [entry] = feedback.load(str(tmp_path))
        assert (entry.path, entry.line, entry.code, entry.tool, entry.useful) == \
            ("pkg/app.py", 1, "F401", "flake8", False)

        # An unsaved edit is analysed from the buffer (debounced): fixing the typo
        # drops the error; pylint's findings on unchanged lines are carried over.
        fixed = text.replace("return reslt", "return result")
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=fixed)]))
        changed = await next_diagnostics(client, uri)
        codes = {d.code for d in changed}
        assert "F821" not in codes and "E0602" not in codes
        assert {"F401", "W0611"} <= codes

        path.write_text(fixed, encoding="utf-8")
        client.text_document_did_save(types.DidSaveTextDocumentParams(
            text_document=types.TextDocumentIdentifier(uri=uri)))
        saved = await next_diagnostics(client, uri)
        assert {d.code for d in saved} == codes

        # Editing [tool.lintrank] takes effect without restarting the server.
        with open(tmp_path / "pyproject.toml", "a", encoding="utf-8") as handle:
            handle.write("\n[tool.lintrank]\npriorities = {bugs = 0}\n")
        client.text_document_did_save(types.DidSaveTextDocumentParams(
            text_document=types.TextDocumentIdentifier(uri=uri)))
        reweighed = await next_diagnostics(client, uri)
        assert {"F401", "W0611"} & codes and not {"F401", "W0611"} & {
            d.code for d in reweighed}

        client.text_document_did_close(types.DidCloseTextDocumentParams(
            text_document=types.TextDocumentIdentifier(uri=uri)))
        assert await next_diagnostics(client, uri) == []
        await client.shutdown_session()
    finally:
        await client.stop()
