"""The cost model: dollars per million anonymous messages and the idle month, from the measured
durations and capacity units, the template (memory, alarms, schedule) and `bench.prices`.

One message's life: the sender sends it (Mini App API; the owner's notification is sent inside that
invocation), the owner lists the inbox, buys the unlock (create order, pre-checkout, successful_payment)
and reads it. Six Lambda invocations and six HTTP API requests (Telegram's webhook calls go through the
HTTP API too). Assumptions are named constants below, each said in the report."""

from __future__ import annotations

import math
import re
from typing import Any

from bench import prices
from sandbox.lambda_runtime import function_configs
from sandbox.tables import load_template

MESSAGE_LIFE = ("send", "inbox_page", "create_order", "pre_checkout", "fulfil", "read")
STARS_PER_MESSAGE = 1  # the unlock; gifts, hints and plans would add revenue, not cost
COLD_START_SHARE = 0.01  # assumption: 1 invocation in 100 starts a container (INIT is billed since 2025-08)
LOG_BYTES_PER_INVOCATION = 400  # assumption: Lambda's START/END/REPORT lines; our INFO lines are extra
MONTH_SECONDS = 30 * 86400


def _schedule_per_month(template: dict[str, Any]) -> int:
    """Invocations a month of every `rate(N minutes|hours)` schedule in the template."""
    total = 0
    for match in re.finditer(r"rate\((\d+) (minute|minutes|hour|hours)\)", str(template)):
        step = int(match.group(1)) * (60 if match.group(2).startswith("minute") else 3600)
        total += MONTH_SECONDS // step
    return total


def _condition_holds(template: dict[str, Any], name: str) -> bool:
    """A condition's value with every parameter at its default (`Fn::Equals` / `Fn::Not` over `Ref`s);
    anything more complex counts as true, so a resource is never left out of the bill by mistake."""
    defaults = {k: str(v.get("Default", "")) for k, v in (template.get("Parameters") or {}).items()}

    def value(node: Any) -> Any:
        if isinstance(node, dict) and "Ref" in node:
            return defaults.get(node["Ref"], node["Ref"])
        return node

    def holds(node: Any) -> bool:
        if isinstance(node, dict) and "Fn::Equals" in node:
            left, right = node["Fn::Equals"]
            return bool(str(value(left)) == str(value(right)))
        if isinstance(node, dict) and "Fn::Not" in node:
            return not holds(node["Fn::Not"][0])
        return True

    return holds((template.get("Conditions") or {}).get(name))


def _count(template: dict[str, Any], resource_type: str) -> int:
    """Resources of a type that a deploy with the default parameters creates."""
    return sum(
        1
        for r in (template.get("Resources") or {}).values()
        if r.get("Type") == resource_type and ("Condition" not in r or _condition_holds(template, r["Condition"]))
    )


def lambda_cost(duration_ms: float, memory_mb: int) -> float:
    billed_s = (
        math.ceil(duration_ms / prices.LAMBDA_BILLING_GRANULARITY_MS) * prices.LAMBDA_BILLING_GRANULARITY_MS / 1000
    )
    return billed_s * memory_mb / 1024 * prices.LAMBDA_ARM_PER_GB_SECOND + prices.LAMBDA_PER_REQUEST


def cost_model(warm: dict[str, Any], cold: dict[str, Any] | None) -> dict[str, Any]:
    template = load_template()
    memory = {c.logical_id: c.memory_mb for c in function_configs().values()}
    per_message: dict[str, float] = {"lambda": 0.0, "http_api": 0.0, "dynamodb": 0.0, "logs": 0.0, "cold_starts": 0.0}
    lines = []
    for op in MESSAGE_LIFE:
        figures = warm[op]
        mb = memory[figures["function"]]
        duration = figures["handler"]["p50_ms"]
        lam = lambda_cost(duration, mb)
        ddb = (figures["rru"] or 0) * prices.DYNAMODB_PER_RRU + (figures["wru"] or 0) * prices.DYNAMODB_PER_WRU
        per_message["lambda"] += lam
        per_message["http_api"] += prices.HTTP_API_PER_REQUEST
        per_message["dynamodb"] += ddb
        per_message["logs"] += LOG_BYTES_PER_INVOCATION / 1e9 * prices.CLOUDWATCH_LOGS_INGEST_PER_GB
        lines.append(
            {
                "operation": op,
                "function": figures["function"],
                "memory_mb": mb,
                "duration_ms": duration,
                "rru": figures["rru"],
                "wru": figures["wru"],
                "usd_per_million": round((lam + ddb + prices.HTTP_API_PER_REQUEST) * 1e6, 3),
            }
        )
    if cold:
        by_logical = {f["logical_id"]: f for f in cold["functions"].values()}
        for op in MESSAGE_LIFE:
            fn = by_logical.get(warm[op]["function"])
            if fn:
                init_ms = fn["import_ms"] + fn["first_request_ms"]
                gb_s = init_ms / 1000 * memory[warm[op]["function"]] / 1024
                per_message["cold_starts"] += COLD_START_SHARE * gb_s * prices.LAMBDA_ARM_PER_GB_SECOND
    total = sum(per_message.values())
    revenue = STARS_PER_MESSAGE * prices.USD_PER_STAR_TO_DEVELOPER
    idle = idle_month(template, warm, memory)
    return {
        "prices_taken_on": prices.TAKEN_ON,
        "region": prices.REGION,
        "assumptions": {
            "message_life": list(MESSAGE_LIFE),
            "duration": "measured warm handler p50 here (strict endpoint and moto on loopback), billed per started ms",
            "cold_start_share": COLD_START_SHARE,
            "log_bytes_per_invocation": LOG_BYTES_PER_INVOCATION,
            "stars_per_message": STARS_PER_MESSAGE,
            "usd_per_star_to_developer": prices.USD_PER_STAR_TO_DEVELOPER,
            "free_tiers": "ignored for the per-message figure",
        },
        "per_operation": lines,
        "usd_per_million_messages": {k: round(v * 1e6, 2) for k, v in per_message.items()},
        "usd_per_million_messages_total": round(total * 1e6, 2),
        "revenue_usd_per_million_messages": round(revenue * 1e6, 2),
        "cost_share_of_revenue_pct": round(total / revenue * 100, 3),
        "idle": idle,
        "vps": {
            "usd_month": prices.SMALL_VPS_MONTH,
            "messages_per_month_where_aws_costs_as_much": (
                int(max(0.0, prices.SMALL_VPS_MONTH - idle["usd_month_no_free_tier"]) / total) if total else None
            ),
        },
    }


def idle_month(template: dict[str, Any], warm: dict[str, Any], memory: dict[str, int]) -> dict[str, Any]:
    """What the stack costs a month with no users: alarms, dashboards, the scheduled cron, storage."""
    alarms = _count(template, "AWS::CloudWatch::Alarm")
    dashboards = _count(template, "AWS::CloudWatch::Dashboard")
    ticks = _schedule_per_month(template)
    cron = warm["cron_tick"]
    tick_cost = (
        lambda_cost(cron["handler"]["p50_ms"], memory[cron["function"]])
        + (cron["rru"] or 0) * prices.DYNAMODB_PER_RRU
        + (cron["wru"] or 0) * prices.DYNAMODB_PER_WRU
        + prices.SCHEDULER_PER_INVOCATION
        + LOG_BYTES_PER_INVOCATION / 1e9 * prices.CLOUDWATCH_LOGS_INGEST_PER_GB
    )
    items = {
        "cloudwatch_alarms": alarms * prices.CLOUDWATCH_ALARM_MONTH,
        "cloudwatch_dashboards": dashboards * prices.CLOUDWATCH_DASHBOARD_MONTH,
        "cron_ticks": ticks * tick_cost,
        "dynamodb_storage_and_pitr_per_gb": prices.DYNAMODB_STORAGE_PER_GB_MONTH + prices.DYNAMODB_PITR_PER_GB_MONTH,
        "kms_aws_managed_keys": prices.KMS_AWS_MANAGED_KEY_MONTH,
        "s3_static_site_1mb": prices.S3_STANDARD_PER_GB_MONTH / 1024,
        "cloudfront": prices.CLOUDFRONT_AT_REST,
        "ssm_parameters": prices.SSM_STANDARD_PARAMETER_MONTH,
        "sns_and_sqs": prices.SNS_EMAIL_AT_REST + prices.SQS_AT_REST,
    }
    at_rest = {k: v for k, v in items.items() if k != "dynamodb_storage_and_pitr_per_gb"}
    no_free = sum(at_rest.values())
    free_alarms = min(alarms, prices.CLOUDWATCH_FREE_ALARMS) * prices.CLOUDWATCH_ALARM_MONTH
    free_dash = min(dashboards, prices.CLOUDWATCH_FREE_DASHBOARDS) * prices.CLOUDWATCH_DASHBOARD_MONTH
    return {
        "alarms": alarms,
        "dashboards": dashboards,
        "cron_ticks_per_month": ticks,
        "items_usd": {k: round(v, 4) for k, v in items.items()},
        "usd_month_no_free_tier": round(no_free, 2),
        "usd_month_with_always_free_tier": round(no_free - free_alarms - free_dash, 2),
        "note": "tables are near-empty at rest; storage + PITR add the per-GB figure once data grows past 25 GB free",
    }
