"""``merge-shards``: one run's report from the shards it was split into over several CI jobs.

Each shard's shapes.json carries ``"shard": {"index": i, "count": n}`` (1-based). The joined
document must say what the unsplit run would have said, so anything that would make it lie is
refused (usage error, exit status 2) rather than papered over: shards of different
implementations, versions, backends or suite catalogs; a case reported by two shards; a shard
index that is missing, repeated or out of range for ``count``.

Joined: the cases (union, sorted by node id), the summary (recounted from the cases; any other
integer count a newer schema adds is summed; ``not_applicable`` is recounted), the exit status (the highest: a non-zero one
wins), its meaning, each expectation entry's matched ``cases`` (union), ``stale`` (the entries
stale in *every* shard: an entry is stale when no case of the whole run matched it) and
``not_run`` (matched by no shard, and deselected in at least one: not run in this lane). The
``shard`` key is dropped. Written as OUT_DIR/shapes.json and OUT_DIR/shapes.html (the suite's
own report page).
"""

from __future__ import annotations

import collections
import json
from pathlib import Path
from typing import Any, Sequence

from rnnconf.tools.matrix.load import RunError

SAME_IMPL = ("impl", "module", "flavor", "version", "backend", "backend_version")


def _key(entry: dict[str, Any]) -> tuple[str, str]:
    return (str(entry.get("source", "")), str(entry.get("pattern", "")))


def check(docs: Sequence[dict[str, Any]], names: Sequence[str]) -> None:
    """Raise :class:`RunError` unless the documents are the complete shards of one run."""
    if not docs:
        raise RunError("no shard given")
    first, name0 = docs[0], names[0]
    for doc, name in zip(docs, names):
        if not isinstance(doc.get("shard"), dict):
            raise RunError(f"{name}: not a shard (no 'shard': {{'index': i, 'count': n}})")
        if doc["schema"] != first["schema"]:
            raise RunError(f"{name}: schema {doc['schema']} but {name0} is {first['schema']}")
        a, b = first.get("implementation") or {}, doc.get("implementation") or {}
        differ = [f"{k} {a.get(k)!r} vs {b.get(k)!r}" for k in SAME_IMPL if a.get(k) != b.get(k)]
        if differ:
            raise RunError(f"{name} and {name0} are not shards of one run: {'; '.join(differ)}")
        if [e.get("id") for e in doc.get("catalog", [])] != [e.get("id") for e in first.get("catalog", [])]:
            raise RunError(f"{name} and {name0} were made by different versions of the suite (catalogs differ)")
    counts = {d["shard"].get("count") for d in docs}
    if len(counts) != 1:
        raise RunError(f"the shards disagree on how many there are: counts {sorted(map(str, counts))}")
    count = counts.pop()
    indexes = collections.Counter(d["shard"].get("index") for d in docs)
    problems = []
    if not isinstance(count, int) or count < 1:
        problems.append(f"shard count {count!r} is not a positive integer")
    else:
        missing = [i for i in range(1, count + 1) if i not in indexes]
        if missing:
            problems.append(f"missing shard(s) {', '.join(map(str, missing))} of {count}")
        extra = sorted(str(i) for i in indexes if not (isinstance(i, int) and 1 <= i <= count))
        if extra:
            problems.append(f"shard index(es) {', '.join(extra)} out of range 1..{count}")
    repeated = sorted(str(i) for i, n in indexes.items() if n > 1)
    if repeated:
        problems.append(f"shard index(es) {', '.join(repeated)} given more than once")
    if problems:
        raise RunError("; ".join(problems))
    owner: dict[str, str] = {}
    for doc, name in zip(docs, names):
        for c in doc["cases"]:
            if c["nodeid"] in owner:
                raise RunError(f"case {c['nodeid']} is in both {owner[c['nodeid']]} and {name}")
            owner[c["nodeid"]] = name


def join(docs: Sequence[dict[str, Any]], names: Sequence[str] | None = None) -> dict[str, Any]:
    from rnnconf.harness.report import writers

    names = list(names or [f"shard #{i + 1}" for i in range(len(docs))])
    check(docs, names)
    docs = sorted(docs, key=lambda d: d["shard"]["index"])
    cases = sorted((c for d in docs for c in d["cases"]), key=lambda c: c["nodeid"])
    counts = collections.Counter(c["outcome"] for c in cases)
    summary = {k: counts.get(k, 0) for k in writers.OUTCOMES}
    for d in docs:  # counts a newer schema adds: additive over shards (n/a is recounted)
        for k, n in (d.get("summary") or {}).items():
            if k == "not_applicable":
                summary[k] = sum(1 for c in cases if "not_applicable" in c)
            elif k not in summary and k != "total" and isinstance(n, int):
                summary[k] = summary.get(k, 0) + n
    exit_status = max(int(d.get("exit_status", 0)) for d in docs)
    out = {k: v for k, v in docs[0].items() if k != "shard"}
    out.update(generated_at=max(str(d.get("generated_at", "")) for d in docs), exit_status=exit_status,
               exit_meaning=writers.EXIT_MEANING.get(exit_status, "unknown"),
               summary=summary | {"total": len(cases)}, expectations=_expectations(docs),
               unspecified=writers.divergences(cases), cases=cases)
    return out


def _expectations(docs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    base = dict(docs[0].get("expectations") or {})
    entries: dict[tuple, dict[str, Any]] = {}
    for d in docs:
        for e in (d.get("expectations") or {}).get("entries", []):
            slot = entries.setdefault(_key(e), dict(e, cases=[]))
            slot["cases"] = sorted(set(slot["cases"]) | set(e.get("cases", [])))
    not_applicable: dict[tuple, dict[str, Any]] = {}
    for d in docs:
        for e in (d.get("expectations") or {}).get("not_applicable", []):
            not_applicable.setdefault(_key(e), e)
    # an entry no shard matched: stale when it is stale in every shard, else not run in this lane
    # (a shard deselects the other shards' cases, and the default lane deselects some in each)
    def listed(d: dict[str, Any], kind: str) -> dict[tuple, dict[str, Any]]:
        return {_key(e): e for e in (d.get("expectations") or {}).get(kind, [])}
    stale_sets = [listed(d, "stale") for d in docs]
    unmatched = [listed(d, "stale") | listed(d, "not_run") for d in docs]
    keys = [k for k in unmatched[0] if all(k in u for u in unmatched[1:])]
    stale = [unmatched[0][k] for k in keys if all(k in s for s in stale_sets)]
    not_run = [unmatched[0][k] for k in keys if not all(k in s for s in stale_sets)]
    joined = {"entries": list(entries.values()), "not_applicable": list(not_applicable.values()), "stale": stale}
    if any("not_run" in (d.get("expectations") or {}) for d in docs):  # runs before it had none
        joined["not_run"] = not_run
    return base | joined


def write(out_dir: Path, docs: Sequence[dict[str, Any]], names: Sequence[str | Path]) -> list[Path]:
    from rnnconf.harness.report import writers

    doc = join(docs, [str(n) for n in names])
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, html_path = out_dir / "shapes.json", out_dir / "shapes.html"
    json_path.write_text(json.dumps(doc, indent=1, default=str) + "\n", encoding="utf-8")
    html_path.write_text(writers.render_html(doc), encoding="utf-8")
    return [json_path, html_path]
