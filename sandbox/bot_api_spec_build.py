"""Build `sandbox/bot_api_spec.json`, the facts of the official Bot API description the fake Bot API checks calls
against, from the machine-readable description of PaulSonOfLars/telegram-bot-api-spec (MIT), `api.json`.

Kept: method names, parameter names, types, required flags, return types; type names, field names, types,
required flags, and which types are one of several (InlineQueryResult, MenuButton...). Dropped: every description.
Read from the descriptions, as facts the Bot API reference states in words: a String's documented length
("1-4096 characters", "1-64 bytes", "can't exceed 64 bytes"), an Integer's documented range ("Values between
1-100 are accepted", "; 1-10000"), an Array's documented item count ("list of 1-100", "At most 100 ... can be
specified"), and the fixed value that tells the kinds of a union apart ("Type of the result, must be article").

    git -C <mirror> show HEAD:api.json > /tmp/api.json
    python -m sandbox.bot_api_spec_build /tmp/api.json "$(git -C <mirror> rev-parse HEAD)"
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

OUTPUT = Path(__file__).with_name("bot_api_spec.json")
REPOSITORY = "https://github.com/PaulSonOfLars/telegram-bot-api-spec"

_LENGTH = re.compile(r"(\d+)-(\d+) (characters|bytes)\b", re.IGNORECASE)
_AT_MOST_LENGTH = re.compile(r"can't exceed (\d+) (characters|bytes)\b", re.IGNORECASE)
_RANGE = re.compile(
    r"[Vv]alues between (\d+)-(\d+) are accepted|[;,] (\d+)-(\d+)(?:\.|$)|[Mm]ust be between (\d+) and (\d+) if"
)
_ITEMS = re.compile(
    r"(?:list of|must include|array of) (\d+)-(\d+)\b|[Aa]t most (\d+) [a-z ]+ can be specified|up to (\d+) items"
)
_FIXED = re.compile(r"(?:must be|always)\s+[\"“]?([A-Za-z0-9_]+)[\"”]?\s*$")


def _numbers(match: re.Match[str]) -> list[int]:
    return [int(group) for group in match.groups() if group is not None and group.isdigit()]


def field_facts(field: dict[str, Any], in_union: bool) -> dict[str, Any]:
    """One parameter or field: name, type ("Integer or String"), required, and the limits its description states."""
    types, description = field["types"], field["description"]
    fact: dict[str, Any] = {"name": field["name"], "type": " or ".join(types)}
    if field["required"]:
        fact["required"] = True
    if types == ["String"]:
        if found := _LENGTH.search(description):
            fact["length"] = [int(found[1]), int(found[2])]
            fact["unit"] = found[3].lower()
        elif found := _AT_MOST_LENGTH.search(description):
            fact["length"] = [0, int(found[1])]
            fact["unit"] = found[2].lower()
        if in_union and (found := _FIXED.search(description)):
            fact["value"] = found[1]
    elif types == ["Integer"] and (found := _RANGE.search(description)):
        fact["range"] = _numbers(found)
    elif all(t.startswith("Array of ") for t in types) and (found := _ITEMS.search(description)):
        numbers = _numbers(found)
        fact["items"] = numbers if len(numbers) == 2 else [0, numbers[0]]
    return fact


def build(api: dict[str, Any], commit: str) -> dict[str, Any]:
    members = {name for kind in api["types"].values() for name in kind.get("subtypes", [])}
    methods = {
        name: {
            "returns": " or ".join(method["returns"]),
            "params": [field_facts(field, False) for field in method.get("fields", [])],
        }
        for name, method in sorted(api["methods"].items())
    }
    types: dict[str, Any] = {}
    for name, kind in sorted(api["types"].items()):
        if "subtypes" in kind:
            types[name] = {"one_of": kind["subtypes"]}
        else:
            types[name] = {"fields": [field_facts(field, name in members) for field in kind.get("fields", [])]}
    return {
        "version": api["version"].removeprefix("Bot API "),
        "release_date": api["release_date"],
        "changelog": api["changelog"],
        "source": {"repository": REPOSITORY, "commit": commit, "file": "api.json", "license": "MIT"},
        "built_by": "sandbox/bot_api_spec_build.py: descriptions dropped; length, range, items, value read from them",
        "methods": methods,
        "types": types,
    }


def dumps(spec: dict[str, Any]) -> str:
    """JSON with one method, type, parameter or field a line, so a new Bot API version reads as a short diff."""
    lines = ["{"]
    for key in ("version", "release_date", "changelog", "source", "built_by"):
        lines.append(f"  {json.dumps(key)}: {json.dumps(spec[key], ensure_ascii=False)},")
    for section, entries in (("methods", spec["methods"]), ("types", spec["types"])):
        lines.append(f"  {json.dumps(section)}: {{")
        for position, (name, entry) in enumerate(entries.items()):
            listed = entry.get("params", entry.get("fields"))
            head = {key: value for key, value in entry.items() if key not in ("params", "fields")}
            inner = ", ".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in head.items())
            if listed is None:
                lines.append(f"    {json.dumps(name)}: {{{inner}}}")
            else:
                label = "params" if "params" in entry else "fields"
                opening = f"    {json.dumps(name)}: {{{inner + ', ' if inner else ''}{json.dumps(label)}: ["
                items = [f"      {json.dumps(item, ensure_ascii=False)}" for item in listed]
                lines.append(opening if items else opening + "]}")
                if items:
                    lines.append(",\n".join(items))
                    lines.append("    ]}")
            if position < len(entries) - 1:
                lines[-1] += ","
        lines.append("  }," if section == "methods" else "  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> None:
    source, commit = argv
    spec = build(json.loads(Path(source).read_text(encoding="utf-8")), commit)
    OUTPUT.write_text(dumps(spec), encoding="utf-8")
    print(f"{OUTPUT}: Bot API {spec['version']}, {len(spec['methods'])} methods, {len(spec['types'])} types")


if __name__ == "__main__":
    main(sys.argv[1:])
