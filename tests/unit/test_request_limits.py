"""The request models say the lengths the domain enforces, from the one place they are set (`config.Limits`),
not as numbers of their own that could drift from it (issue 15: `report_chars` was unused while 300 was
hard-coded)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from pydantic import ValidationError

from murmur.api.schemas import ReplyIn, ReportIn, SendMessageIn
from murmur.config import Limits

SCHEMAS = Path(__file__).resolve().parents[2] / "src" / "murmur" / "api" / "schemas.py"


def test_request_lengths_are_the_domains_limits() -> None:
    tree = ast.parse(SCHEMAS.read_text())
    literal = [
        f"schemas.py:{node.lineno} {keyword.arg}={keyword.value.value}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        for keyword in node.keywords
        if keyword.arg in ("max_length", "min_length")
        and isinstance(keyword.value, ast.Constant)
        and keyword.value.value not in (0, 1, 4)  # "not empty" and the smallest base64
    ]
    assert not literal, "lengths written as numbers:\n" + "\n".join(literal)
    limits = Limits()
    models = [
        (ReportIn, "reason", limits.report_chars),
        (ReplyIn, "text", limits.reply_chars),
        (SendMessageIn, "text", limits.message_chars),
    ]
    for model, field, limit in models:
        assert getattr(model.model_validate({field: "x" * limit}), field) == "x" * limit
        with pytest.raises(ValidationError, match="at most"):
            model.model_validate({field: "x" * (limit + 1)})
