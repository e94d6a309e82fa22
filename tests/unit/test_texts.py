"""Every sentence the bot says and every invoice, in every language Murmur speaks: each placeholder filled, no
language missing, the plural forms each language needs, and no English left in the Russian or Spanish ones."""

from __future__ import annotations

import re
import string

import pytest

from murmur import catalog, plurals, texts

# Names and brands that stay as they are in every language.
KEPT = {"Murmur", "Plus", "Pro", "Telegram", "Stars", "Premium", "UTC", "id", "username"}
# Words that would mean an English sentence was left in a Spanish one (none of them is Spanish).
ENGLISH_WORDS = {"the", "your", "you", "and", "is", "are", "with", "for", "this", "that", "will", "can", "our", "we",
                 "message", "messages", "to", "of", "it", "be", "in", "hint", "hints", "paid", "refunded"}  # fmt: skip
NUMBERS = {"count", "minutes", "stars", "number", "waiting", "cap", "recipient_id"}


def _placeholders(sentence: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(sentence) if name}


def _sample(names: set[str]) -> dict[str, object]:
    return {name: 7 if name in NUMBERS else f"<{name}>" for name in names}


@pytest.mark.parametrize("key", texts.sentence_keys())
def test_every_sentence_exists_in_every_language_with_the_same_placeholders(key: str) -> None:
    english = {name for form in texts.forms(key, "en") for name in _placeholders(form)}
    for language in texts.LANGUAGES:
        forms = texts.forms(key, language)
        assert forms and all(form.strip() for form in forms), f"{key} has no {language}"
        for form in forms:
            assert _placeholders(form) == english, f"{key} in {language} has other placeholders than in English"
        said = texts.text(key, language, **_sample(english))
        assert "{" not in said and "}" not in said, f"{key} in {language} left a placeholder: {said}"


@pytest.mark.parametrize("key", texts.sentence_keys())
def test_no_english_is_left_in_russian_or_spanish(key: str) -> None:
    if key.startswith(("report_", "invoice_title_pro")) or key in {"ban_sender", "block_sender", "dismiss"}:
        pytest.skip("admin-only or a brand name")
    for language in ("ru", "es"):
        for form in texts.forms(key, language):
            bare = re.sub(r"\{[^}]*\}|/[a-z]+", " ", form)
            words = [w for w in re.findall(r"[A-Za-z]+", bare) if w not in KEPT]
            if language == "ru":
                assert not words, f"{key} in ru has Latin words {words}: {form}"
            else:
                english = [w for w in words if w.lower() in ENGLISH_WORDS]
                assert not english, f"{key} in es has English words {english}: {form}"
                assert form not in texts.forms(key, "en"), f"{key} in es is the English sentence"


@pytest.mark.parametrize(
    ("language", "count", "form"),
    [
        ("en", 1, "one"), ("en", 2, "other"), ("en", 0, "other"), ("es", 1, "one"), ("es", 5, "other"),
        ("ru", 1, "one"), ("ru", 21, "one"), ("ru", 2, "few"), ("ru", 24, "few"), ("ru", 5, "many"),
        ("ru", 11, "many"), ("ru", 12, "many"), ("ru", 111, "many"), ("ru", 0, "many"),
    ],
)  # fmt: skip
def test_the_plural_rule_of_each_language(language: str, count: int, form: str) -> None:
    assert plurals.category(language, count) == form


def test_plural_sentences_have_every_form_their_language_needs_and_pick_the_right_one() -> None:
    for key in texts.sentence_keys():
        for language in texts.LANGUAGES:
            forms = texts.forms(key, language)
            assert len(forms) in (1, len(plurals.FORMS[language])), f"{key} in {language}: forms missing"
    assert texts.text("new_messages", "en", count=1, preview="hi") == "💌 1 new anonymous message. The newest: “hi”"
    assert texts.text("new_messages", "en", count=3, preview="hi").startswith("💌 3 new anonymous messages.")
    assert texts.text("new_messages", "ru", count=21, preview="hi").startswith("💌 21 новое анонимное сообщение.")
    assert texts.text("new_messages", "ru", count=3, preview="hi").startswith("💌 3 новых анонимных сообщения.")
    assert texts.text("new_messages", "ru", count=11, preview="hi").startswith("💌 11 новых анонимных сообщений.")
    assert texts.text("erasing", "es", minutes=1).endswith("1 minuto como máximo.")


@pytest.mark.parametrize("product_id", list(catalog.PRODUCTS))
def test_every_invoice_is_in_every_language_within_telegrams_limits(product_id: str) -> None:
    item = catalog.PRODUCTS[product_id]
    for language in texts.LANGUAGES:
        title, description = catalog.title(item, language), catalog.description(item, language)
        assert 1 <= len(title) <= 32 and 1 <= len(description) <= 255
    assert catalog.description(item, "ru") != catalog.description(item, "en")
    assert catalog.description(item, "es") != catalog.description(item, "en")
    assert catalog.title(item, "pt-br") == catalog.title(item, "en")  # a language Murmur does not speak: English


def test_a_hint_names_the_senders_language_in_the_readers_language() -> None:
    from murmur.clues import describe_clue

    assert describe_clue("language:ru", "en") == "Their Telegram is set to Russian"
    assert describe_clue("language:ru", "ru") == "Язык их Telegram: русский"
    assert describe_clue("language:ru", "es") == "Su Telegram está en ruso"
    assert describe_clue("language:xx", "es") == "Su Telegram está en xx"  # an unknown code as it is
    for reader in texts.LANGUAGES:
        assert set(texts.LANGUAGE_NAMES[reader]) == set(texts.LANGUAGE_NAMES["en"])
