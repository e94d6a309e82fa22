"""The bot's commands and callbacks, like the API's routes (tests/unit/test_import_graph.py), each call a domain
operation and never the store: no `murmur.store` import and no use of the Services' repositories (issue 15)."""

from __future__ import annotations

import ast
from pathlib import Path

BOT = Path(__file__).resolve().parents[2] / "src" / "murmur" / "telegram" / "bot.py"


def test_bot_commands_reach_the_store_only_through_the_domain() -> None:
    tree = ast.parse(BOT.read_text(), filename=str(BOT))
    imports = [
        f"bot.py:{node.lineno} imports {node.module}"
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("murmur.store")
    ]
    repos = [
        f"bot.py:{node.lineno} uses .repos"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr == "repos"
    ]
    assert any(isinstance(node, ast.AsyncFunctionDef) for node in tree.body), "the callbacks are read"
    assert not imports + repos, "bot commands reaching the store:\n" + "\n".join(imports + repos)
