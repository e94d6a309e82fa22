"""Every word in the user's language, backend side (issue 16): the Stars invoice a person pays and the hints about
a sender are in the reader's language, through the real API and the fake Bot API's record of createInvoiceLink."""

from __future__ import annotations

from sandbox.local_stack import LocalStack
from tests.functional.helpers import link_code, order, person, send


def test_invoices_are_in_the_buyers_language(stack: LocalStack) -> None:
    owner, sender = person(lang="ru"), person(lang="es-419")
    assert order(stack, owner, "plus_week").status == 201
    plus = stack.bot_api.calls("createInvoiceLink")[-1].params
    assert plus["title"] == "Murmur Plus на 7 дней"
    assert plus["description"] == "Все сообщения целиком в течение недели."

    send(stack, owner, sender, "una corona para ti", gift="crown")
    crown = stack.bot_api.calls("createInvoiceLink")[-1].params
    assert (crown["title"], crown["description"]) == ("Corona", "Una corona junto a tu mensaje.")

    catalog = stack.api("GET", "/api/catalog?lang=ru").json()["products"]
    assert next(p for p in catalog if p["id"] == "unlock")["title"] == "Прочитать сообщение"
    assert stack.api("GET", "/api/catalog?lang=<script>").status == 422


def test_a_hint_names_the_senders_language_in_the_readers_language(stack: LocalStack) -> None:
    owner, sender = person("Olga", lang="es"), person("Ivan", lang="ru")
    ladder = stack.api("GET", f"/api/links/{link_code(stack, owner)}", user=sender).json()["hint_ladder"]
    assert ladder[0] == "Язык их Telegram: русский"  # what the sender is told a hint reveals, in Russian

    mid = send(stack, owner, sender, "¿adivinas quién soy?")["message_id"]
    created = order(stack, owner, "hint", mid)
    assert created.status == 201, created.body
    assert stack.pay_invoice(owner, created.json()["invoice_link"])["status"] == "paid"
    hints = stack.api("GET", f"/api/messages/{mid}", user=owner).json()["hints"]
    assert hints == ["Su Telegram está en ruso"]
