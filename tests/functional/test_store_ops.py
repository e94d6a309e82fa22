"""`Op.failing_with`: the one way to say "this write, and this error if its condition fails" (ADR 0015), on
DynamoDB's own answers (moto): a cancelled transaction's reasons, and a single write's ConditionalCheckFailed."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from murmur.errors import ConflictError, RateLimitedError
from murmur.store.dynamo import Op
from murmur.store.repositories import Repositories

SRC = Path(__file__).resolve().parents[2] / "src" / "murmur"


class WindowFullError(ConflictError):
    """A test's own refusal (its code stays "conflict": every code the domain defines needs the Mini App's words)."""


def test_a_write_failing_with_an_error_raises_it_in_a_transaction_and_alone(repos: Repositories) -> None:
    """A window of one event: the second write's condition fails, with the error it was given (a class, or a
    function that builds one), and writes nothing."""
    window = repos.state.window_op("failing-with", 1, 2_000_000_000)
    repos.tx.write([window])
    full = window.failing_with(WindowFullError)

    with pytest.raises(WindowFullError):
        repos.tx.write([full])
    with pytest.raises(WindowFullError):
        repos.tx.write_one(full)
    with pytest.raises(RateLimitedError) as limited:
        repos.tx.write_one(window.failing_with(lambda: RateLimitedError("full", retry_after=7)))
    assert limited.value.retry_after == 7
    # The op it came from is unchanged: still the default refusal.
    with pytest.raises(ConflictError) as default:
        repos.tx.write([window])
    assert type(default.value) is ConflictError
    item = repos.state.client.get_item(
        TableName=repos.state.table, Key={"pk": {"S": "rate#failing-with"}}, ConsistentRead=True
    )["Item"]
    assert item["count"] == {"N": "1"}


def test_the_error_of_the_op_whose_condition_failed_is_raised_among_several(repos: Repositories) -> None:
    """In a transaction of several writes, the refusal is the one of the write whose condition failed."""
    taken = repos.state.window_op("taken", 1, 2_000_000_000)
    repos.tx.write([taken])
    free = repos.state.window_op("free", 1, 2_000_000_000).failing_with(lambda: RateLimitedError("not this one"))
    with pytest.raises(WindowFullError):
        repos.tx.write([free, taken.failing_with(WindowFullError)])
    assert "Item" not in repos.state.client.get_item(TableName=repos.state.table, Key={"pk": {"S": "rate#free"}})


def _rewraps(path: Path) -> list[str]:
    """`Op(x.request, ...)`: an op taken apart to give it another error."""
    tree = ast.parse(path.read_text())
    return [
        f"{path.relative_to(SRC.parent)}:{node.lineno}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == Op.__name__
        and any(isinstance(arg, ast.Attribute) and arg.attr == "request" for arg in node.args)
    ]


def _error_parameters(path: Path) -> list[str]:
    """A repository's `…_op(…, on_failed)`: a second way to give a write its error."""
    tree = ast.parse(path.read_text())
    return [
        f"{path.relative_to(SRC.parent)}:{node.lineno} {node.name}({arg.arg})"
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef) and node.name.endswith("_op")
        for arg in node.args.args
        if arg.arg.startswith("on_")
    ]


def test_every_write_gets_its_error_one_way() -> None:
    rewrapped = [line for path in sorted(SRC.rglob("*.py")) for line in _rewraps(path)]
    assert not rewrapped, f"ops re-wrapped instead of `failing_with`: {rewrapped}"
    parameters = [line for path in sorted((SRC / "store").glob("*.py")) for line in _error_parameters(path)]
    assert not parameters, f"error parameters beside `failing_with`: {parameters}"
