"""What rendering a content template costs in the sandbox, in one process: a typical
social-post template (variables, a condition, a loop, filters) rendered again and again
(compiled once, then from the cache) and compiled each time (every render a new text),
and the save-time check (parse, forbidden constructs, names read). Prints one JSON line
with the microseconds per operation (p50 and p99 of batches).

    python3 dev.py run python bench/template_render.py [--runs 20000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from markettina.content import template_sandbox

SOURCE = (
    "Hi {{ first_name|title }}! {{ offer }}{% if vip %} (VIP){% endif %} until "
    "{{ ends_on }}. {% for tag in tags %}#{{ tag|lower }} {% endfor %}{{ signature }}"
)
VALUES = {
    "first_name": "ada", "offer": "20% off everything", "vip": True, "ends_on": "31 December",
    "tags": ["Sale", "Winter", "Shop"], "signature": "The Markettina team",
}  # fmt: skip
BATCH = 100


def timed(operation: Callable[[int], object], runs: int) -> dict[str, float]:
    per_call: list[float] = []
    for start in range(0, runs, BATCH):
        began = time.perf_counter()
        for i in range(start, start + BATCH):
            operation(i)
        per_call.append((time.perf_counter() - began) / BATCH * 1e6)
    quantiles = statistics.quantiles(per_call, n=100)
    return {"p50_us": round(statistics.median(per_call), 1), "p99_us": round(quantiles[98], 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20_000)
    args = parser.parse_args()
    cached = timed(lambda _: template_sandbox.render(SOURCE, VALUES, html=False), args.runs)
    compiled = timed(
        lambda i: template_sandbox.render(SOURCE + f"{{# {i} #}}", VALUES, html=False),
        max(BATCH * 10, args.runs // 20),
    )
    checked = timed(lambda i: template_sandbox.inspect(SOURCE + f"{{# {i} #}}"), args.runs // 10)
    print(json.dumps({
        "bench": "template_render", "runs": args.runs, "render_cached": cached,
        "render_compiled": compiled, "check_on_save": checked,
    }))  # fmt: skip


if __name__ == "__main__":
    main()
