"""Erasing a recipient leaves no trace of them on gift orders others paid for, or on people they invited."""

from __future__ import annotations

from sandbox.local_stack import LocalStack
from tests.functional.helpers import link_code, person, send


def test_erased_recipient_vanishes_from_gift_orders_and_invitees(stack: LocalStack) -> None:
    owner, sender = person("Gwen"), person()
    code = link_code(stack, owner)
    invitee = person()
    assert stack.api("GET", "/api/me", user=invitee, start_param=f"ref_{code}").status == 200
    sent = send(stack, owner, sender, "a gift for you", gift="fire")
    assert stack.pay_invoice(sender, sent["gift_invoice"]["invoice_link"])["status"] == "paid"
    order_id = sent["gift_invoice"]["order_id"]

    assert stack.api("DELETE", "/api/me", user=owner).status == 200

    client = stack.dynamodb_client()
    order = client.get_item(TableName=stack.env["ORDERS_TABLE"], Key={"order_id": {"S": order_id}})["Item"]
    assert "recipient_id" not in order and "message_id" not in order
    assert order["status"]["S"] == "paid" and order["buyer_id"]["N"] == str(sender["id"])
    invited = client.get_item(TableName=stack.env["USERS_TABLE"], Key={"user_id": {"N": str(invitee["id"])}})["Item"]
    assert str(owner["id"]) not in str(invited)
