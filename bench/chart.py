"""bench/chart.png: the two figures that read better as a picture than as a table.

Left, where each function's cold start goes (interpreter, module import, first request) beside the boto3
floor and the 1.5x target. Right, where a warm request's time goes (the handler's own code, the AWS SDK's
CPU, the DynamoDB and Bot API waits), per operation."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def render_chart(results: dict[str, Any], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    fig, (cold_ax, warm_ax) = plt.subplots(1, 2, figsize=(13, 5.6), gridspec_kw={"width_ratios": [1, 1.6]})

    cold = results["cold_start"]
    floor = cold["floor"]["median_ms"]
    names = list(cold["functions"])
    parts = [
        ("interpreter and the rest", "interpreter_and_rest_ms", "#b0b7c3"),
        ("import", "import_ms", "#4c78a8"),
        ("first request", "first_request_ms", "#f58518"),
    ]
    bottoms = [0.0] * len(names)
    for label, key, colour in parts:
        values = [max(0.0, cold["functions"][n][key]) for n in names]
        cold_ax.bar(names, values, bottom=bottoms, label=label, color=colour)
        bottoms = [b + v for b, v in zip(bottoms, values, strict=True)]
    cold_ax.axhline(floor, color="black", linewidth=1, label=f"boto3 floor {floor:.0f} ms")
    cold_ax.axhline(1.5 * floor, color="black", linestyle="--", linewidth=1, label="target: 1.5x the floor")
    for i, n in enumerate(names):
        cold_ax.annotate(f"{cold['functions'][n]['ratio_to_floor']}x", (i, bottoms[i]), ha="center", va="bottom")
    cold_ax.set_title("Cold start (median of fresh processes)")
    cold_ax.set_ylabel("ms")
    cold_ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2)

    warm = results["warm"]
    ops = list(warm)
    pieces = [
        ("own, without the SDK", lambda w: w["own_without_sdk"]["p50_ms"], "#54a24b"),
        ("AWS SDK (botocore) CPU", lambda w: w["botocore_client_overhead"]["p50_ms"], "#e45756"),
        ("DynamoDB wait", lambda w: w["dynamodb_wait"]["p50_ms"], "#4c78a8"),
        ("Bot API wait", lambda w: w["bot_api_wait"]["p50_ms"], "#f58518"),
    ]
    lefts = [0.0] * len(ops)
    for label, value_of, colour in pieces:
        values = [max(0.0, value_of(warm[op])) for op in ops]
        warm_ax.barh(ops, values, left=lefts, label=label, color=colour)
        lefts = [a + v for a, v in zip(lefts, values, strict=True)]
    warm_ax.invert_yaxis()
    warm_ax.set_xscale("symlog", linthresh=1)
    warm_ax.axvline(1.0, color="black", linestyle="--", linewidth=1, label="target for own time: 1 ms")
    warm_ax.set_title("Warm request, p50 of each part (strict AWS endpoint, moto, fake Bot API on loopback)")
    warm_ax.set_xlabel("ms (log scale above 1 ms)")
    warm_ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=3)

    machine = results["machine"]
    fig.suptitle(f"make bench, {results['date']} ({machine['cpus']} CPUs, Python {machine['python']})")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
