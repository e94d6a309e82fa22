"""Every business metric the dashboard draws is one the code emits, with the dimensions the dashboard names: a
metric on the dashboard that nothing emits (or emits under other dimensions) is an empty graph that looks healthy
(issue 15). Read from the template and the source; the emission itself is seen through the local stack in
test_routes_through_the_domain.py and test_payments.py."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

from sandbox.tables import TEMPLATE, load_template

SRC = Path(__file__).resolve().parents[2] / "src" / "murmur"
NAMESPACE = "Murmur"


def _dashboard() -> dict[str, object]:
    body = load_template(TEMPLATE)["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"][0]
    # The substitutions (${AWS::Region}, function names) are plain strings inside JSON strings.
    parsed: dict[str, object] = json.loads(re.sub(r"\$\{[^}]+\}", "x", body))
    return parsed


def drawn() -> set[tuple[str, tuple[str, ...]]]:
    """(metric name, its dimension names) for each business metric the dashboard draws."""
    found: set[tuple[str, tuple[str, ...]]] = set()
    for widget in _dashboard()["widgets"]:  # type: ignore[attr-defined]
        previous: list[str] = []
        for row in widget.get("properties", {}).get("metrics", []):
            if isinstance(row[0], dict):  # SEARCH('{Murmur,a,b} MetricName="X"', ...)
                search = re.search(r"\{(\w+),([\w,]+)\} MetricName=\"(\w+)\"", row[0]["expression"])
                assert search, row
                if search[1] == NAMESPACE:
                    found.add((search[3], tuple(sorted(search[2].split(",")))))
                continue
            # "." repeats the previous row's value at that position (CloudWatch's shorthand).
            row = [previous[i] if value == "." and i < len(previous) else value for i, value in enumerate(row)]
            previous = row
            if row[0] == NAMESPACE:
                found.add((row[1], tuple(sorted(row[2::2]))))
    return found


def emitted() -> set[tuple[str, tuple[str, ...]]]:
    """(name, dimensions) of every `metrics.count(name)` (Powertools adds `service`) and
    `metrics.count_by(name, dimension, ...)` in the source, with a literal name."""
    found: set[tuple[str, tuple[str, ...]]] = set()
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            func = node.func
            if not (isinstance(func.value, ast.Attribute) and func.value.attr == "metrics"):
                continue
            args = [a.value for a in node.args if isinstance(a, ast.Constant)]
            if func.attr == "count" and args:
                found.add((args[0], ("service",)))
            elif func.attr == "count_by" and len(args) >= 2:
                found.add((args[0], tuple(sorted(("service", args[1])))))
    return found


def test_every_metric_on_the_dashboard_is_emitted_with_its_dimensions() -> None:
    shown = drawn()
    assert {name for name, _ in shown} >= {"MessagesSent", "MessagesUnlocked", "StarsEarned", "PaymentRejected"}
    missing = shown - emitted()
    assert not missing, f"drawn on the dashboard, emitted by nothing: {sorted(missing)}"
