"""The API's nesting check: it counts arrays and objects only, never brackets inside strings."""

from __future__ import annotations

import json

from murmur.api.app import MAX_NESTING, _nests_deeper_than


def test_brackets_inside_strings_and_escaped_quotes_do_not_count() -> None:
    text = json.dumps({"text": "[" * 100 + '"{' * 50 + "\\"})
    assert not _nests_deeper_than(text, 2)


def test_the_limit_itself_passes_and_one_more_level_does_not() -> None:
    at_limit = "[" * MAX_NESTING + "]" * MAX_NESTING
    assert json.loads(at_limit) is not None and not _nests_deeper_than(at_limit, MAX_NESTING)
    assert _nests_deeper_than("[" + at_limit + "]", MAX_NESTING)
    assert _nests_deeper_than('{"a": ' * (MAX_NESTING + 1) + "1" + "}" * (MAX_NESTING + 1), MAX_NESTING)
