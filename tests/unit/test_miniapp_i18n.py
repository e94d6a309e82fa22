"""Every word the Mini App shows exists in every language, and every error the API can answer is said in the
user's words: the real `static_site/js/i18n.js` run by Node, checked against the backend's error codes."""

from __future__ import annotations

import importlib
import json
import pkgutil
import shutil
import subprocess
from pathlib import Path

import pytest

import murmur
from murmur.errors import MurmurError

ROOT = Path(__file__).resolve().parents[2]
# Codes that never reach the Mini App: they stay inside the money paths (the webhook answers Telegram, not a person).
INTERNAL_CODES = frozenset(
    {
        "error",
        "duplicate_payment",
        "order_not_pending",
        "entitlement_changed",
        "already_refunded",
        "idempotency_key_taken",  # a concurrent send with the same key: answered with the first send's result
        # A real gift's delivery, in the cron (murmur.gift_delivery): the sender hears the outcome from the bot.
        "gift_hold_lost",
        "gift_spend_taken",
        "gift_message_gone",
    }
)
# Codes the API layer itself answers (murmur.api.errors), beside the domain's.
API_CODES = frozenset({"validation_error", "internal"})

SCRIPT = """
globalThis.document = { documentElement: {} };
const i18n = await import(process.argv[1]);
const codes = JSON.parse(process.argv[2]);
const out = { missing: i18n.missingKeys(), errors: {}, plurals: {} };
for (const lang of i18n.LANGUAGES) {
  i18n.setLanguage(lang);
  const said = (code) => (i18n.has(`error_${code}`) ? i18n.t(`error_${code}`) : null);
  out.errors[lang] = Object.fromEntries(codes.map((code) => [code, said(code)]));
  out.plurals[lang] = [1, 2, 5, 21].map((count) => i18n.t("hints_count", { count }));
}
console.log(JSON.stringify(out));
"""


def _domain_codes() -> set[str]:
    for module in pkgutil.walk_packages(murmur.__path__, "murmur."):
        importlib.import_module(module.name)
    codes: set[str] = set()
    pending: list[type[MurmurError]] = [MurmurError]
    while pending:
        cls = pending.pop()
        codes.add(cls.code)
        pending += cls.__subclasses__()
    return codes


def _run(codes: list[str]) -> dict[str, object]:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is required (make test installs the npm packages with it)")
    done = subprocess.run(
        [node, "--input-type=module", "-e", SCRIPT, str(ROOT / "static_site/js/i18n.js"), json.dumps(codes)],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return dict(json.loads(done.stdout))


def test_every_error_code_is_said_in_every_language_and_no_key_is_missing() -> None:
    codes = sorted((_domain_codes() | API_CODES) - INTERNAL_CODES)
    assert {"banned", "blocked", "not_accepting", "conflict", "unauthorized", "slow_mode"} <= set(codes)
    out = _run(codes)
    assert out["missing"] == {"en": [], "ru": [], "es": []}
    errors = out["errors"]
    assert isinstance(errors, dict)
    for lang, texts in errors.items():
        untranslated = [code for code, text in texts.items() if not text]
        assert not untranslated, f"{lang}: no words for {untranslated}"
    # Not English in Russian and Spanish: each language has its own sentence for each code.
    for code in codes:
        assert errors["ru"][code] != errors["en"][code], code
        assert errors["es"][code] != errors["en"][code], code


def test_counts_take_the_plural_form_of_the_language() -> None:
    plurals = _run([])["plurals"]
    assert plurals == {
        "en": ["1 hint", "2 hints", "5 hints", "21 hints"],
        "ru": ["1 подсказка", "2 подсказки", "5 подсказок", "21 подсказка"],
        "es": ["1 pista", "2 pistas", "5 pistas", "21 pistas"],
    }
