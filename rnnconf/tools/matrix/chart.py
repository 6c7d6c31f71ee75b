"""The deviation chart: worst |difference from the NumPy oracle| per entry and run, log scale.

One panel per tolerance, because a bfloat16 deviation of 1e-2 and a float32 one of 1e-2 mean
opposite things; each panel draws its own ``atol`` as a line. Only geometry is computed here
(plain numbers and strings); the template writes it out as inline SVG, so the page needs no
script or network to show it.
"""

from __future__ import annotations

import math
import re
from typing import Any

from rnnconf.tools.matrix.load import Run

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22")
LEFT, RIGHT, TOP, BOTTOM, WIDTH = 150, 14, 16, 22, 560
FLOOR = 1e-16  # below this a deviation is drawn at the left edge (as "0")


def colour(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def atol_of(tolerance: str) -> float | None:
    """``float32: rtol=1e-05, atol=1e-05`` -> 1e-05 (the line drawn; rtol scales with |ref|)."""
    m = re.search(r"atol=([0-9.eE+-]+)", tolerance or "")
    try:
        return float(m.group(1)) if m else None
    except ValueError:
        return None


def worst_by_tolerance(runs: list[Run]) -> dict[str, dict[tuple[str, int], dict[str, Any]]]:
    """tolerance -> (entry, run index) -> the worst oracle deviation and its case."""
    out: dict[str, dict[tuple[str, int], dict[str, Any]]] = {}
    for i, run in enumerate(runs):
        for c in run.cases:
            dev = c.get("deviation")
            if not dev or dev.get("against") != "oracle" or not c.get("entry"):
                continue
            slot = out.setdefault(str(dev.get("tolerance", "")), {})
            key = (c["entry"], i)
            if key not in slot or dev["max_abs_diff"] > slot[key]["worst"]:
                slot[key] = {"worst": float(dev["max_abs_diff"]), "nodeid": c["nodeid"], "outcome": c["outcome"]}
    return out


def panels(runs: list[Run]) -> list[dict[str, Any]]:
    data = worst_by_tolerance(runs)
    order = {e["id"]: n for r in reversed(runs) for n, e in enumerate(r.doc.get("catalog", []))}
    result = []
    for tolerance, slot in sorted(data.items(), key=lambda kv: -len(kv[1])):
        entries = sorted({e for e, _ in slot}, key=lambda e: (order.get(e, 999), e))
        atol = atol_of(tolerance)
        values = [d["worst"] for d in slot.values() if d["worst"] > FLOOR] + ([atol] if atol else [])
        lo = math.floor(math.log10(min(values))) if values else -8
        hi = max(math.ceil(math.log10(max(values))) if values else 0, lo + 1)
        if atol:  # keep the tolerance line off the edge, so it reads as a line and not a frame
            hi = max(hi, math.floor(math.log10(atol)) + 1)
        band = max(10, 4 + 2 * len(runs))
        height = TOP + band * len(entries) + BOTTOM

        def x(value: float) -> float:
            v = min(max(value, 10.0 ** lo), 10.0 ** hi)
            return round(LEFT + (math.log10(v) - lo) / (hi - lo) * (WIDTH - LEFT - RIGHT), 1)

        step = max(1, math.ceil((hi - lo) / 10))
        ticks = [{"x": x(10.0 ** p), "label": f"1e{p}"} for p in range(lo, hi + 1, step)]
        rows, points = [], []
        for n, entry in enumerate(entries):
            y0 = TOP + n * band
            rows.append({"y": y0 + band / 2 + 4, "y0": y0, "entry": entry, "shade": n % 2 == 0})
            for i, run in enumerate(runs):
                d = slot.get((entry, i))
                if d is None:
                    continue
                points.append({"x": x(d["worst"]), "y": round(y0 + 4 + i * (band - 8) / max(1, len(runs) - 1)
                                                               if len(runs) > 1 else y0 + band / 2, 1),
                               "colour": colour(i), "zero": d["worst"] <= FLOOR, "over": bool(atol and d["worst"] > atol),
                               "title": f"{entry} · {run.label}: {d['worst']:.3g} ({d['outcome']}) {d['nodeid']}"})
        result.append({"tolerance": tolerance, "atol": atol, "atol_x": x(atol) if atol else None,
                       "width": WIDTH, "height": height, "band": band, "left": LEFT, "right": WIDTH - RIGHT, "top": TOP,
                       "bottom": height - BOTTOM, "ticks": ticks, "rows": rows, "points": points,
                       "table": [{"entry": e, "run": i, **d} for (e, i), d in sorted(slot.items())]})
    return result


def worst_table(panels_: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"tolerance": p["tolerance"], **row} for p in panels_ for row in p["table"]]
