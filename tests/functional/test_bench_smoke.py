"""The bench harness works end to end in its tiny smoke mode: every section is there and sane.

No timing is asserted (the machine is noisy); only that each measurement ran and found what the
product guarantees (messages stored, requests served, notices sent or owed, round trips counted, units
computed), and that the per-invocation figures came back from the containers' REPORTs."""

from __future__ import annotations

import json
from pathlib import Path

from bench.cold_child import peak_rss_mb
from bench.run import main

SECTIONS = ("cold_start", "warm", "round_trips", "cron_scaling", "load", "cost", "machine", "date", "stack")


def test_bench_smoke_writes_every_section(tmp_path: Path) -> None:
    # Given the smoke counts, when the whole bench runs
    assert main(["--smoke", "--out", str(tmp_path)]) == 0

    # Then results.json has every section
    results = json.loads((tmp_path / "results.json").read_text())
    assert all(section in results for section in SECTIONS)
    assert set(results["cold_start"]["functions"]) == {"webhook", "miniapp_api", "subscriptions_cron"}
    for fn in results["cold_start"]["functions"].values():
        assert fn["ratio_to_floor"] > 0 and fn["memory"]["peak_rss_after_warm_mb"] > 0
        assert fn["imports"]["import"]["top_packages_self_ms"]
    samples = results["counts"]["warm_samples"]
    for op in ("send", "inbox_page", "read", "create_order", "pre_checkout", "fulfil", "cron_tick"):
        warm = results["warm"][op]
        assert warm["dynamodb_calls"] >= 1
        assert results["round_trips"][op]["dynamodb_minimum"] >= 1
        # Every sample is an invocation's REPORT from the function's container, with the probe's figures.
        assert warm["handler"]["n"] == warm["lambda_report"]["n"] == samples
        assert warm["dynamodb_http_exchanges_p50"] >= warm["dynamodb_calls"]
    assert results["warm"]["send"]["wru"] > 0 and results["warm"]["inbox_page"]["rru"] > 0
    assert results["warm"]["send"]["bot_api_methods_in_handler"] == {}  # the owner hears from the cron (ADR 0007)
    cron_methods = results["warm"]["cron_tick"]["bot_api_methods_in_handler"]
    assert cron_methods.get("getStarTransactions") == 1 and set(cron_methods) <= {"getStarTransactions", "sendMessage"}
    load = results["load"]
    assert load["stored_messages"] == load["senders"] and load["errors_5xx"] == 0
    # Concurrent containers, warmed before the burst, none refused for concurrency; IAM allowed every call.
    assert load["concurrency"] >= 2 and load["api_containers"] >= load["concurrency"]
    assert load["throttled_by_concurrency"] == 0 and load["iam_denials"] == 0
    # Flood control on: no notice on the senders' requests, one coalesced announcement pending, and the cron
    # tick after the burst told the owner of every message in one notice, with no 429 from Telegram.
    assert load["flood_control"] is not None
    assert load["notifications_sent"] == 0 and load["notices_owed"] == 1
    outbox = load["outbox"]
    assert outbox["tick_sent"] == 1 and outbox["telegram_429s"] == 0 and outbox["owed_after_tick"] == 0
    levels = results["cron_scaling"]["levels"]
    assert len(levels) == 2 and levels[0]["due"] == levels[1]["due"]
    # The handler's work per tick is a count, not a time: twice the users, the same calls.
    assert abs(results["cron_scaling"]["change_pct_first_to_last"]["python_calls"]) <= 10
    assert all(level["python_calls"] > 1000 for level in levels)
    # Each child reports its own peak, not the (much larger) bench process's it was spawned from.
    parent = peak_rss_mb()
    assert all(fn["memory"]["peak_rss_after_warm_mb"] < parent for fn in results["cold_start"]["functions"].values())
    assert results["cost"]["usd_per_million_messages_total"] > 0

    # And the chart is a PNG image
    assert (tmp_path / "chart.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")

    # And RESULTS.md has a table per measurement
    text = (tmp_path / "RESULTS.md").read_text()
    for heading in (
        "## Targets",
        "## Cold start",
        "## Warm latency",
        "## Round trips",
        "## Cron scaling",
        "## Load",
        "## How the stack ran",
        "## Memory",
        "## Cost model",
    ):
        assert heading in text
