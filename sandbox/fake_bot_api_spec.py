"""The official Bot API description as data, and the checks every call to the fake gets from it.

`bot_api_spec.json` holds the facts of Bot API 10.1 (methods, parameters, types, fields, required flags, documented
lengths, ranges and item counts; built by `sandbox.bot_api_spec_build`), and `bot_api_spec_10_2.json` the part of
10.2 the product uses, as a patch on top. From them a call is checked as a whole: the method exists; every parameter
is one the method has; required ones are there; each value has its type (Integer, Float, String, Boolean, InputFile,
Array of X, and objects sent as JSON, field by field, down to the last nested one, a union such as InlineQueryResult
resolved the way the Bot API tells its kinds apart); and the documented limits hold.

What the description does not say (Telegram's own words for an error, rules tying parameters together, URL schemes)
is handed in as `Rules` by `sandbox.fake_bot_api_methods`.

Values arrive either typed (a JSON body) or as text (query string, forms; objects and arrays as JSON text, as PTB
sends them). Like Telegram, a top-level Integer may come as "42" and a String as a number. Stricter than Telegram:
an unknown parameter or field is refused (Telegram ignores it), a Boolean must be true/false/1/0 (Telegram reads
anything else as false), and inside JSON objects numbers must be JSON numbers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SPEC_FILE = Path(__file__).with_name("bot_api_spec.json")
PATCH_FILE = Path(__file__).with_name("bot_api_spec_10_2.json")

JSONDict = dict[str, Any]
_INTEGER = re.compile(r"-?\d{1,19}")
_FLOAT = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?")
# How TDLib names a JSON type in "Field "x" must be of type ..."
_JSON_NAMES = {"Integer": "Number", "Float": "Number", "True": "Boolean", "InputFile": "String"}


class BadRequestError(Exception):
    """A call Telegram would answer with 400; `description` is the text after "Bad Request: "."""

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request, e.g. setWebhook's `certificate`."""

    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Field:
    """A method's parameter or a type's field, with what the reference documents about its values."""

    name: str
    types: tuple[str, ...]  # alternatives: ("Integer", "String") for "Integer or String"
    required: bool = False
    length: tuple[int, int] | None = None  # a String's documented length, in `unit`
    unit: str = "characters"
    range: tuple[int, int] | None = None  # an Integer's documented range
    items: tuple[int, int] | None = None  # an Array's documented number of items
    value: str | None = None  # the fixed value that marks one kind of a union ("article")
    values: tuple[str, ...] | None = None  # the documented choices

    @classmethod
    def of(cls, fact: JSONDict) -> Field:
        def pair(key: str) -> tuple[int, int] | None:
            return (fact[key][0], fact[key][1]) if key in fact else None

        return cls(
            fact["name"],
            tuple(fact["type"].split(" or ")),
            fact.get("required", False),
            length=pair("length"),
            unit=fact.get("unit", "characters"),
            range=pair("range"),
            items=pair("items"),
            value=fact.get("value"),
            values=tuple(fact["values"]) if "values" in fact else None,
        )


@dataclass(frozen=True)
class Method:
    name: str
    params: dict[str, Field]
    returns: tuple[str, ...]


@dataclass(frozen=True)
class Kind:
    """A Bot API type: an object with fields, or one of several types (`one_of`)."""

    name: str
    fields: dict[str, Field]
    one_of: tuple[str, ...] = ()


ObjectRule = Callable[[JSONDict], None]


@dataclass(frozen=True)
class Rules:
    """What the description leaves to Telegram's servers (see `sandbox.fake_bot_api_methods`).

    `words`: Telegram's description of a problem, keyed "<method or type>.<name>:<problem>" (problem: missing,
    type, short, long), "*.<name>:<problem>" for a parameter of any method. `labels`: how Telegram names a type in
    "can't parse <label>: ...". `objects`: a check of an object once its fields passed, by type (or by the union
    it belongs to). `methods`: a check of a call once its parameters passed."""

    words: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    objects: Mapping[str, ObjectRule] = field(default_factory=dict)
    methods: Mapping[str, ObjectRule] = field(default_factory=dict)


class _Mismatch(Exception):
    """A value that is not of the type tried (another alternative may fit). `label` names the object it arose in
    (None: the value itself is of the wrong JSON type); `depth` says how far the check got, to report the closest
    alternative: 0 wrong JSON type, 1 a field the type does not have, 2 a field missing, 3 inside the fields."""

    def __init__(self, detail: str, label: str | None = None, depth: int = 0) -> None:
        super().__init__(detail)
        self.detail, self.label, self.depth = detail, label, depth


class BotApiSpec:
    """The Bot API as its description states it; `check_call` validates one call."""

    def __init__(self, document: JSONDict, patch: JSONDict | None = None) -> None:
        self.version: str = document["version"]
        self.source: JSONDict = document["source"]
        self.patch_version: str | None = patch["version"] if patch else None
        self.methods: dict[str, Method] = {
            name.lower(): Method(
                name,
                {fact["name"]: Field.of(fact) for fact in entry["params"]},
                tuple(entry["returns"].split(" or ")),
            )
            for name, entry in document["methods"].items()
        }
        facts: dict[str, JSONDict] = {**document["types"], **(patch or {}).get("types", {})}
        added: dict[str, list[JSONDict]] = (patch or {}).get("add_fields", {})
        self.types: dict[str, Kind] = {
            name: Kind(
                name,
                {fact["name"]: Field.of(fact) for fact in [*entry.get("fields", []), *added.get(name, [])]},
                tuple(entry.get("one_of", ())),
            )
            for name, entry in facts.items()
        }
        self._unions = {member: kind.name for kind in self.types.values() for member in kind.one_of}

    @classmethod
    def load(cls) -> BotApiSpec:
        """Bot API 10.1 from `bot_api_spec.json`, with the 10.2 patch."""
        document = json.loads(SPEC_FILE.read_text(encoding="utf-8"))
        patch = json.loads(PATCH_FILE.read_text(encoding="utf-8"))
        if patch["base"] != document["version"]:
            raise ValueError(f"{PATCH_FILE.name} patches Bot API {patch['base']}, not {document['version']}")
        return cls(document, patch)

    def method(self, name: str) -> Method | None:
        """A method by name, in any case, as Telegram matches them."""
        return self.methods.get(name.lower())

    def update_types(self) -> frozenset[str]:
        """What `allowed_updates` may name: the fields of Update but its id."""
        return frozenset(self.types["Update"].fields) - {"update_id"}

    # --- calls ----------------------------------------------------------------------------------------------------

    def check_call(self, method: Method, raw: Mapping[str, Any], typed: JSONDict, rules: Rules) -> None:
        """Check `raw` against `method`, filling `typed` as parameters pass (kept even on failure); BadRequestError
        at the first problem."""
        typed.update(raw)
        for name, value in raw.items():
            # A file part may be named anything: an object refers to it as "attach://<name>".
            if name not in method.params and not isinstance(value, UploadedFile):
                raise BadRequestError(
                    f'unknown parameter "{name}" of {method.name}: not in Bot API {self.version} '
                    "(Telegram ignores it; the fake refuses it, see docs/local-fidelity.md)"
                )
        for param in method.params.values():
            value = raw.get(param.name)
            if value is None or (value == "" and param.types != ("String",)):  # an empty form value is no value
                typed.pop(param.name, None)
                if param.required:
                    words = self._words(rules, method.name, param.name, "missing")
                    raise BadRequestError(words or f'parameter "{param.name}" is required')
                continue
            typed[param.name] = self._param(method.name, param, value, rules)
        rule = rules.methods.get(method.name)
        if rule is not None:
            rule(typed)

    def check_value(self, value: Any, types: Iterable[str], rules: Rules | None = None) -> None:
        """Whether a JSON value is of one of `types` (BadRequestError if not), e.g. a result against the method's
        return type; without `rules`, documented limits are not applied (they bind what a bot sends)."""
        try:
            self._fits_any(value, tuple(types), rules)
        except _Mismatch as mismatch:
            raise self._bad(mismatch, "value", tuple(types)) from None

    def _param(self, owner: str, param: Field, value: Any, rules: Rules) -> Any:
        scalars = [t for t in param.types if t in _SCALARS]
        for kind in scalars:
            converted = _SCALARS[kind](value)
            if converted is not _NO:
                self._limits(owner, param, converted, rules, None)
                return converted
        structured = tuple(t for t in param.types if t not in _SCALARS)
        if not structured:
            words = self._words(rules, owner, param.name, "type")
            raise BadRequestError(words or f'parameter "{param.name}" must be {_a(param.types)}')
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                words = self._words(rules, owner, param.name, "json")
                raise BadRequestError(words or f"can't parse {param.name} JSON object") from None
        try:
            self._fits_any(value, structured, rules)
        except _Mismatch as mismatch:
            words = self._words(rules, owner, param.name, "type") if mismatch.label is None else None
            raise BadRequestError(words or self._bad(mismatch, param.name, param.types).description) from None
        self._limits(owner, param, value, rules, None)
        return value

    # --- JSON values ----------------------------------------------------------------------------------------------

    def _fits_any(self, value: Any, alternatives: tuple[str, ...], rules: Rules | None) -> None:
        misses: list[_Mismatch] = []
        for alternative in alternatives:
            try:
                self._fits(value, alternative, rules)
                return
            except _Mismatch as mismatch:
                misses.append(mismatch)
        closest = max(misses, key=lambda miss: miss.depth)
        if closest.depth == 0 and len(alternatives) > 1:
            raise _Mismatch(" or ".join(dict.fromkeys(_json_name(t) for t in alternatives)))
        raise closest

    def _fits(self, value: Any, kind_name: str, rules: Rules | None) -> None:
        if kind_name.startswith("Array of "):
            if not isinstance(value, list):
                raise _Mismatch("Array")
            for item in value:
                self._fits_any(item, (kind_name.removeprefix("Array of "),), rules)
            return
        if kind_name in _JSON_SCALARS:
            if not _JSON_SCALARS[kind_name](value):
                raise _Mismatch(_json_name(kind_name))
            return
        kind = self.types.get(kind_name)
        if kind is None:
            raise _Mismatch(f"{kind_name} (a type the description does not define)", kind_name, 1)
        if kind.one_of:
            self._fits_any(value, self._members(kind, value, rules), rules)
        else:
            self._fits_object(value, kind, rules)

    def _members(self, union: Kind, value: Any, rules: Rules | None) -> tuple[str, ...]:
        """The kinds of a union `value` may be: those whose fixed field (`type`, `source`, `status`...) says so."""
        objects = [self.types[m] for m in union.one_of if m in self.types and not self.types[m].one_of]
        markers = {f.name for kind in objects for f in kind.fields.values() if f.value is not None}
        if not isinstance(value, dict) or len(markers) != 1:
            return union.one_of
        marker = markers.pop()
        label = self._label(rules, union.name)
        if value.get(marker) is None:
            raise _Mismatch(f'Can\'t find field "{marker}"', label, 2)
        given = str(value[marker]).lower()
        members = tuple(k.name for k in objects if (k.fields[marker].value or "").lower() == given)
        if not members:
            raise _Mismatch(f'unsupported {marker} "{value[marker]}"', label, 1)
        return members

    def _fits_object(self, value: Any, kind: Kind, rules: Rules | None) -> None:
        if not isinstance(value, dict):
            raise _Mismatch("Object")
        label = self._label(rules, kind.name)
        for name in value:
            if name not in kind.fields:
                raise _Mismatch(f'unknown field "{name}" (Telegram ignores it; the fake refuses it)', label, 1)
        for fact in kind.fields.values():
            if fact.required and value.get(fact.name) is None:
                raise _Mismatch(f'Can\'t find field "{fact.name}"', label, 2)
            if fact.value is not None and fact.name in value and str(value[fact.name]).lower() != fact.value.lower():
                raise _Mismatch(f'Field "{fact.name}" must be "{fact.value}"', label, 2)
        present = [(kind.fields[name], item) for name, item in value.items() if item is not None]
        for fact, item in present:
            try:
                self._fits_any(item, fact.types, rules)
            except _Mismatch as mismatch:
                if mismatch.label is None:
                    raise _Mismatch(f'Field "{fact.name}" must be of type {mismatch.detail}', label, 3) from None
                mismatch.depth = 3
                raise
            if fact.values is not None and item not in fact.values:
                raise _Mismatch(f'Field "{fact.name}" must be one of {", ".join(fact.values)}', label, 3)
        if rules is None:
            return
        # Telegram's own checks first (an empty callback_data is no action at all), then the documented limits.
        for owner in (kind.name, self._unions.get(kind.name)):
            rule = rules.objects.get(owner) if owner else None
            if rule is not None:
                rule(value)
        for fact, item in present:
            self._limits(kind.name, fact, item, rules, label)

    # --- limits and words -----------------------------------------------------------------------------------------

    def _limits(self, owner: str, fact: Field, value: Any, rules: Rules, label: str | None) -> None:
        """The documented length, range or item count of a value that has its type."""
        bounds, size, noun = None, 0, ""
        if fact.length is not None and isinstance(value, str):
            bounds, noun = fact.length, fact.unit
            size = len(value.encode()) if fact.unit == "bytes" else len(value)
        elif fact.range is not None and isinstance(value, int):
            bounds, size = fact.range, value
        elif fact.items is not None and isinstance(value, list):
            bounds, size, noun = fact.items, len(value), "items"
        if bounds is None or bounds[0] <= size <= bounds[1]:
            return
        problem = "short" if size < bounds[0] else "long"
        words = self._words(rules, owner, fact.name, problem)
        if words is None and owner in self._unions:
            words = self._words(rules, self._unions[owner], fact.name, problem)
        if words is not None:
            raise BadRequestError(words)
        what = f'{fact.name}" must be {bounds[0]}-{bounds[1]} {noun}'.rstrip()
        if fact.range is not None:
            what = f'{fact.name}" must be between {bounds[0]} and {bounds[1]}'
        raise BadRequestError(f"can't parse {label}: Field \"{what}" if label else f'parameter "{what}')

    def _words(self, rules: Rules, owner: str, name: str, problem: str) -> str | None:
        return rules.words.get(f"{owner}.{name}:{problem}") or rules.words.get(f"*.{name}:{problem}")

    def _label(self, rules: Rules | None, kind: str) -> str:
        """How an error names a type: Telegram's label, else the union it is one kind of (as the Bot API server says
        "BotCommandScope" of a BotCommandScopeChat), else its own name."""
        labels = rules.labels if rules is not None else {}
        union = self._unions.get(kind)
        if union is not None:
            return labels.get(kind) or labels.get(union) or union
        return labels.get(kind) or kind

    def _bad(self, mismatch: _Mismatch, name: str, types: tuple[str, ...]) -> BadRequestError:
        if mismatch.label is None:
            return BadRequestError(f'parameter "{name}" must be {_a(types)}')
        return BadRequestError(f"can't parse {mismatch.label}: {mismatch.detail}")


# --- scalars -------------------------------------------------------------------------------------------------------

_NO = object()  # "not of this type"


def _integer(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        return int(value)
    return _NO


def _float(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str) and _FLOAT.fullmatch(value.strip()):
        return float(value)
    return _NO


def _string(value: Any) -> Any:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return json.dumps(value)  # a JSON number is read as its text, as Telegram does
    return _NO


def _boolean(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0"):
        return value.strip().lower() in ("true", "1")
    return _NO


def _input_file(value: Any) -> Any:
    return value if isinstance(value, UploadedFile) else _NO


# Top-level parameters, from text or JSON; "True" is a Boolean that must be true.
_SCALARS: dict[str, Callable[[Any], Any]] = {
    "Integer": _integer,
    "Float": _float,
    "String": _string,
    "Boolean": _boolean,
    "True": lambda value: True if _boolean(value) is True else _NO,
    "InputFile": _input_file,
}
# Inside JSON objects: the JSON type itself; an InputFile is "attach://<part name>" of the same multipart request.
_JSON_SCALARS: dict[str, Callable[[Any], bool]] = {
    "Integer": lambda value: isinstance(value, int) and not isinstance(value, bool),
    "Float": lambda value: isinstance(value, int | float) and not isinstance(value, bool),
    "String": lambda value: isinstance(value, str),
    "Boolean": lambda value: isinstance(value, bool),
    "True": lambda value: value is True,
    "InputFile": lambda value: isinstance(value, str) and value.startswith("attach://"),
}


def _json_name(kind: str) -> str:
    if kind.startswith("Array of "):
        return "Array"
    return _JSON_NAMES.get(kind, kind if kind in _JSON_SCALARS else "Object")


def _a(types: Iterable[str]) -> str:
    """ "an Integer or a String", "an Array of BotCommand", "an Object of type MenuButton" """
    named = [t if t in _SCALARS or t.startswith("Array of ") else f"Object of type {t}" for t in types]
    return " or ".join(("an " if t[0] in "AEIOU" else "a ") + t for t in named)
