"""Buying: orders priced from the catalog, their status, and the Pro subscription's cancel / resume."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from murmur.api.auth import person_of
from murmur.api.routes.me import me_out
from murmur.api.schemas import ORDER_ID, DoneOut, InvoiceOut, MeOut, OrderIn, OrderStatusOut, success
from murmur.composition import Services
from murmur.orders import PaidOrder

OrderId = Annotated[str, Path(pattern=ORDER_ID, description="an order id")]


def invoice_out(paid: PaidOrder) -> InvoiceOut:
    return InvoiceOut(
        order_id=paid.order.order_id,
        product=paid.order.product,
        amount=paid.order.amount,
        currency="XTR",
        invoice_link=paid.invoice_link,
    )


def build(services: Services) -> APIGatewayHttpRouter:
    router = APIGatewayHttpRouter()

    @router.post(
        "/api/orders",
        summary="Create an order and its Stars invoice link (for WebApp.openInvoice)",
        responses=success(InvoiceOut, 201, "order created"),
    )
    def create(body: OrderIn) -> Response[InvoiceOut]:
        buyer = person_of(router.context["init"])
        paid = services.orders.create(buyer, body.product, body.message_id, body.link_code)
        return Response(status_code=201, content_type="application/json", body=invoice_out(paid))

    @router.get(
        "/api/orders/<order_id>",
        summary="An order's status (paid only after successful_payment)",
        responses=success(OrderStatusOut),
    )
    def status(order_id: OrderId) -> OrderStatusOut:
        order = services.orders.status(router.context["init"].user.id, order_id)
        return OrderStatusOut(order_id=order.order_id, product=order.product, status=order.status.value)  # type: ignore[arg-type]

    @router.delete(
        "/api/orders/<order_id>",
        summary="Give up a pending order (a gift's message that waited in it goes with it; 409 if paid)",
        responses=success(DoneOut),
    )
    def cancel_order(order_id: OrderId) -> DoneOut:
        services.orders.cancel(router.context["init"].user.id, order_id)
        return DoneOut(ok=True)

    @router.post(
        "/api/plan/pro/cancel", summary="Stop renewing Pro (it stays active until its end)", responses=success(MeOut)
    )
    def cancel() -> MeOut:
        user = services.orders.set_pro_cancelled(router.context["init"].user.id, True)
        return me_out(user, services)

    @router.post("/api/plan/pro/resume", summary="Renew Pro again", responses=success(MeOut))
    def resume() -> MeOut:
        user = services.orders.set_pro_cancelled(router.context["init"].user.id, False)
        return me_out(user, services)

    return router
