"""Strength-2 covering arrays: every pair of option values in some case, without the full product.

A recurrent layer has about a dozen options (mask kind, go_backwards, unroll, stateful, ...);
their full product is thousands of cases per layer and implementation, too many to run. The premise
of pairwise testing is that an option-handling bug needs one option value, or two together, to
show; so the suite runs a
*covering array*: rows in which every pair of values of two different options occurs at least
once. For eleven options of two to four values that is about a dozen rows instead of thousands.

Some combinations are invalid (``zero_output_for_mask=True`` without a mask, a dtype policy the
backend lacks); they are given as a predicate over a full row, because that is how a reader states
them. A pair is *required* when some allowed row holds it, and *uncoverable* when none does: the
suite cannot run it, and says so rather than silently dropping it. With a predicate, the product
is enumerated once (the spaces here are small, at most :data:`MAX_PRODUCT` rows) and each factor
value becomes a bitset of the allowed rows that hold it; "can this partial row still be completed
to an allowed row" is then one ``&`` of integers. Without a predicate every row is allowed and
nothing is enumerated.

The generator is greedy, in the AETG manner: each new row starts from an uncovered pair whose
values take part in the most uncovered pairs, then fixes the other factors one by one, each to
the value that covers the most new pairs with the factors already fixed; of several such candidate
rows the one covering most is kept. A few whole runs are made and the shortest array kept, and
rows that the others make redundant are dropped. Greedy arrays are often a row or two longer than
needed, so a local search then tries to drop one more row at a time (:func:`_shrink`); it stops
at the lower bound (the most required pairs of any two factors: a row holds one of each). On
eleven factors of 2-4 values that reaches the bound or the known optimum in a few tens of ms.

Determinism: the same inputs give the same rows in every process. Nothing iterates a set or
depends on ``hash()`` (string hashes are salted per process); ties are broken by factor and value
order or by :class:`_SplitMix64`, whose numbers, unlike :mod:`random`'s shuffles, are the same
on every Python version.

Conventions: an empty ``factors`` gives ``[{}]`` (the one empty row: a test with no options still
runs once) when that row is allowed; a single factor gives one row per allowed value. With two
factors or more every allowed value of a factor is in some row too, since a required pair holds it.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import operator
from typing import Any, Callable, Iterable, Mapping

Factors = dict[str, tuple]          # factor name -> its values (hashable), order significant
Row = dict[str, Any]                # factor name -> value
Pair = tuple[tuple[str, Any], tuple[str, Any]]  # ((factor_a, value_a), (factor_b, value_b)), a before b
Allowed = Callable[[dict], bool]

# The largest product enumerated when a predicate is given (a second at most, at ~1 us a call).
MAX_PRODUCT = 1_000_000
# Candidate rows built per new row, and whole runs made; the shortest array wins. Measured on
# eleven factors of 2-4 values: after _shrink, more buys no shorter arrays there, only time.
CANDIDATES = 4
RUNS = 4
# Moves of the local search spent on each row it tries to drop (see _shrink): a count, not a
# time limit, so that the result does not depend on the machine's speed.
SHRINK_MOVES = 1000


def covering_array(factors: Factors, allowed: Allowed | None = None, *,
                   seed_rows: Iterable[Mapping[str, Any]] = ()) -> list[Row]:
    """Rows (factor -> value), every factor in every row, such that every pair of values of two
    different factors that occurs together in at least one allowed full row occurs in some row;
    every row is allowed. ``seed_rows`` (full rows, e.g. all-defaults) come first, in their
    order and equal to the rows given; the generated rows cover what they leave out.

    Raises ValueError for a factor without values or with repeated values, a seed row that is
    not a full allowed row of these factors, or a constrained product over :data:`MAX_PRODUCT`.
    """
    space = _Space.of(factors, allowed)
    seeds = [space.check_seed(row, allowed) for row in seed_rows]
    if len(space.names) < 2:
        rows = _few_factors(space, seeds)
    else:
        rows = min((_generate(space, seeds, run) for run in range(RUNS)), key=len)
        rows = _shrink(space, rows, len(seeds))
    return [space.row(r) for r in rows]


def required_pairs(factors: Factors, allowed: Allowed | None = None) -> set[Pair]:
    """The pairs some allowed row holds: what a covering array must cover, canonical form."""
    space = _Space.of(factors, allowed)
    return {space.pair(p) for p in space.coverable()}


def uncoverable_pairs(factors: Factors, allowed: Allowed | None = None) -> set[Pair]:
    """The pairs of values no allowed row can hold: the suite cannot run them, say so."""
    space = _Space.of(factors, allowed)
    coverable = set(space.coverable())
    return {space.pair(p) for p in space.all_pairs() if p not in coverable}


def pairs_of(rows: Iterable[Mapping[str, Any]], factors: Factors) -> set[Pair]:
    """The canonical pairs the rows cover. Only the factors named in ``factors`` count, in their
    order; a factor missing from a row pairs with nothing in that row."""
    names = list(factors)
    found = set()
    for row in rows:
        present = [(n, row[n]) for n in names if n in row]
        found.update(itertools.combinations(present, 2))
    return found


def missing_pairs(rows: Iterable[Mapping[str, Any]], factors: Factors,
                  allowed: Allowed | None = None) -> set[Pair]:
    """The required pairs the rows lack (order them with :func:`sort_pairs` for a message)."""
    return required_pairs(factors, allowed) - pairs_of(rows, factors)


def describe_pair(pair: Pair) -> str:
    """``go_backwards=True × mask=arbitrary``: a pair as a reader writes it."""
    (fa, va), (fb, vb) = pair
    return f"{fa}={va} × {fb}={vb}"


def sort_pairs(pairs: Iterable[Pair], factors: Factors) -> list[Pair]:
    """Pairs in factor order, then value order: a set's own order changes between processes, a
    message listing missing pairs should not. Values not among the factor's sort last."""
    rank = {name: (i, {v: j for j, v in enumerate(values)})
            for i, (name, values) in enumerate(factors.items())}

    def key(pair: Pair) -> tuple:
        out = []
        for name, value in pair:
            fi, vi = rank.get(name, (len(rank), {}))
            out += [fi, vi.get(value, len(vi)), repr(value)]
        return tuple(out)

    return sorted(pairs, key=key)


@dataclasses.dataclass(frozen=True)
class _Space:
    """The factors by index, and for each value the bitset of allowed rows holding it.

    Bit ``r`` of ``bits[f][v]`` is set when the ``r``-th allowed row has value ``v`` for factor
    ``f``; a partial row can be completed to an allowed row exactly when the ``&`` of its values'
    bitsets is not zero. Unconstrained, every bitset is ``-1`` (all ones): no enumeration.
    """

    names: tuple[str, ...]
    values: tuple[tuple, ...]
    bits: tuple[tuple[int, ...], ...]
    any_allowed: bool  # the only thing the bitsets cannot say when there are no factors

    @classmethod
    def of(cls, factors: Factors, allowed: Allowed | None) -> _Space:
        names = tuple(factors)
        values = tuple(tuple(factors[n]) for n in names)
        for name, vals in zip(names, values):
            if not vals:
                raise ValueError(f"factor {name!r} has no values")
            if len(set(vals)) != len(vals):
                raise ValueError(f"factor {name!r} repeats a value: {vals!r}")
        if allowed is None:
            return cls(names, values, tuple((-1,) * len(vals) for vals in values), True)
        total = math.prod(len(v) for v in values)
        if total > MAX_PRODUCT:
            raise ValueError(f"{total} rows in the product of {len(names)} factors, more than "
                             f"MAX_PRODUCT={MAX_PRODUCT} to enumerate for the predicate")
        if any(len(v) > 255 for v in values):
            raise ValueError("a factor with more than 255 values (its indices are bytes)")
        flags = [bool(allowed(dict(zip(names, combo)))) for combo in itertools.product(*values)]
        rows = list(itertools.compress(itertools.product(*(range(len(v)) for v in values)), flags))
        bits = []
        for f, vals in enumerate(values):
            column = bytes(map(operator.itemgetter(f), rows))
            bits.append(tuple(_bitset(column, v) for v in range(len(vals))))
        return cls(names, values, tuple(bits), bool(rows))

    @property
    def sizes(self) -> list[int]:
        return [len(v) for v in self.values]

    def index(self, f: int, value: Any) -> int:
        try:
            return self.values[f].index(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a value of factor {self.names[f]!r}: "
                             f"{self.values[f]!r}") from None

    def check_seed(self, row: Mapping[str, Any], allowed: Allowed | None) -> tuple[int, ...]:
        missing = [n for n in self.names if n not in row]
        unknown = [n for n in row if n not in self.names]
        if missing or unknown:
            raise ValueError(f"seed row {dict(row)!r} must name every factor exactly once: "
                             f"missing {missing}, unknown {unknown}")
        idx = tuple(self.index(f, row[n]) for f, n in enumerate(self.names))
        if allowed is not None and not allowed(dict(self.row(idx))):
            raise ValueError(f"seed row {dict(row)!r} is not allowed")
        return idx

    def row(self, idx: tuple[int, ...]) -> Row:
        return {n: self.values[f][v] for f, (n, v) in enumerate(zip(self.names, idx))}

    def all_pairs(self) -> Iterable[tuple[int, int, int, int]]:
        sizes = self.sizes
        for i, j in itertools.combinations(range(len(sizes)), 2):
            for a in range(sizes[i]):
                for b in range(sizes[j]):
                    yield i, a, j, b

    def coverable(self) -> Iterable[tuple[int, int, int, int]]:
        bits = self.bits
        return (p for p in self.all_pairs() if bits[p[0]][p[1]] & bits[p[2]][p[3]])

    def pair(self, p: tuple[int, int, int, int]) -> Pair:
        i, a, j, b = p
        return (self.names[i], self.values[i][a]), (self.names[j], self.values[j][b])


def _bitset(column: bytes, v: int) -> int:
    """The bitset of the positions in ``column`` that hold ``v``, built at C speed."""
    if not column:
        return 0
    table = bytearray(b"0" * 256)
    table[v] = ord("1")
    return int(column.translate(table), 2)


def _few_factors(space: _Space, seeds: list[tuple[int, ...]]) -> list[tuple[int, ...]]:
    """No pairs to cover: one row per allowed value (one factor), the empty row (none)."""
    rows = list(seeds)
    if not space.names:
        if not rows and space.any_allowed:
            rows.append(())
        return rows
    seen = {r[0] for r in rows}
    rows += [(v,) for v, b in enumerate(space.bits[0]) if b and v not in seen]
    return rows


class _SplitMix64:
    """A tiny PRNG whose numbers are the same on every Python version and platform."""

    MASK = (1 << 64) - 1

    def __init__(self, seed: int) -> None:
        self.state = seed & self.MASK

    def next(self) -> int:
        self.state = (self.state + 0x9E3779B97F4A7C15) & self.MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & self.MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & self.MASK
        return z ^ (z >> 31)

    def below(self, n: int) -> int:
        return self.next() % n

    def shuffled(self, items: list) -> list:
        out = list(items)
        for i in range(len(out) - 1, 0, -1):
            j = self.below(i + 1)
            out[i], out[j] = out[j], out[i]
        return out


class _Index:
    """Pair (i, a, j, b) as one integer: ``base[i][j] + a * mul[i][j] + b * mul[j][i]``. The
    formula holds with i > j too, so a lookup needs no ordering of the two factors."""

    def __init__(self, sizes: list[int]) -> None:
        k = len(sizes)
        self.k, self.sizes = k, sizes
        self.base = [[0] * k for _ in range(k)]
        self.mul = [[0] * k for _ in range(k)]
        self.decode: list[tuple[int, int, int, int]] = []
        for i, j in itertools.combinations(range(k), 2):
            self.base[i][j] = self.base[j][i] = len(self.decode)
            self.mul[i][j], self.mul[j][i] = sizes[j], 1
            self.decode += [(i, a, j, b) for a in range(sizes[i]) for b in range(sizes[j])]

    def pid(self, f: int, v: int, g: int, w: int) -> int:
        return self.base[f][g] + v * self.mul[f][g] + w * self.mul[g][f]

    def of_row(self, row: list[int] | tuple[int, ...]) -> list[int]:
        return [self.pid(i, row[i], j, row[j]) for i, j in itertools.combinations(range(self.k), 2)]


def _generate(space: _Space, seeds: list[tuple[int, ...]], run: int) -> list[tuple[int, ...]]:
    """One greedy run (see the module's docstring); ``run`` seeds its tie-breaks, run 0 has none."""
    k, sizes, bits = len(space.names), space.sizes, space.bits
    index = _Index(sizes)
    pid = index.pid
    rng = _SplitMix64(run)
    uncovered = bytearray(len(index.decode))
    deg = [[0] * s for s in sizes]       # uncovered pairs each value takes part in
    for i, a, j, b in space.coverable():
        uncovered[pid(i, a, j, b)] = 1
        deg[i][a] += 1
        deg[j][b] += 1

    def cover(row: tuple[int, ...]) -> int:
        """Mark the row's pairs covered; how many were new."""
        new = 0
        for p in index.of_row(row):
            if uncovered[p]:
                i, a, j, b = index.decode[p]
                uncovered[p] = 0
                deg[i][a] -= 1
                deg[j][b] -= 1
                new += 1
        return new

    rows = list(seeds)
    for row in seeds:
        cover(row)
    remaining = sum(uncovered)
    while remaining:
        # Start pairs: the uncovered pairs whose two values take part in the most uncovered pairs.
        best, starts = -1, []
        for p, (i, a, j, b) in enumerate(index.decode):
            if uncovered[p]:
                score = deg[i][a] + deg[j][b]
                if score > best:
                    best, starts = score, []
                if score == best:
                    starts.append((i, a, j, b))
        chosen, chosen_gain = (), -1
        for m in range(CANDIDATES):
            randomised = run or m
            i, a, j, b = starts[rng.below(len(starts))] if randomised else starts[0]
            row = [-1] * k
            row[i], row[j] = a, b
            mask = bits[i][a] & bits[j][b]
            fixed = [i, j]
            others = [f for f in range(k) if f not in (i, j)]
            if randomised:
                others = rng.shuffled(others)
            else:
                others.sort(key=lambda f: -sum(deg[f]))
            for f in others:
                pick, pick_key, pick_mask = -1, None, 0
                for v in range(sizes[f]):
                    narrowed = mask & bits[f][v]
                    if not narrowed:
                        continue
                    new = sum(uncovered[pid(f, v, g, row[g])] for g in fixed)
                    key = (new, deg[f][v], rng.next() if randomised else -v)
                    if pick_key is None or key > pick_key:
                        pick, pick_key, pick_mask = v, key, narrowed
                row[f], mask = pick, pick_mask
                fixed.append(f)
            g = sum(uncovered[p] for p in index.of_row(row))
            if g > chosen_gain:
                chosen, chosen_gain = tuple(row), g
        remaining -= cover(chosen)
        rows.append(chosen)
    return _drop_redundant(rows, len(seeds), index)


def _drop_redundant(rows: list[tuple[int, ...]], keep: int, index: _Index) -> list[tuple[int, ...]]:
    """Drop, last first, generated rows whose every pair another row also holds."""
    count = [0] * len(index.decode)
    for row in rows:
        for p in index.of_row(row):
            count[p] += 1
    out = list(rows)
    for r in range(len(out) - 1, keep - 1, -1):
        pairs = index.of_row(out[r])
        if all(count[p] > 1 for p in pairs):
            for p in pairs:
                count[p] -= 1
            del out[r]
    return out


def _shrink(space: _Space, rows: list[tuple[int, ...]], keep: int) -> list[tuple[int, ...]]:
    """Drop one generated row at a time and repair what it alone covered by local search.

    A min-conflicts walk: take an uncovered pair, write its two values into the generated row
    where that loses the fewest other pairs (the row must stay allowed; ties at random), repeat.
    Four binary factors, say: the greedy array has 6 rows, this finds 5. Seed rows are not
    touched; the array returned covers every required pair, as the one given did.
    """
    k, bits = len(space.names), space.bits
    index = _Index(space.sizes)
    pid, decode = index.pid, index.decode
    required = bytearray(len(decode))
    for p in space.coverable():
        required[pid(*p)] = 1
    constrained = any(b != -1 for values in bits for b in values)
    # Each row holds one pair of each two factors: no array is shorter than the most required
    # pairs of two factors. Stop there, rather than spend the moves on a row that cannot go.
    per_two: dict[tuple[int, int], int] = {}
    for i, _, j, _ in space.coverable():
        per_two[i, j] = per_two.get((i, j), 0) + 1
    bound = max(per_two.values(), default=0)
    rng = _SplitMix64(len(rows))
    best = list(rows)
    while len(best) > max(keep, bound, 1):
        trial = [list(r) for r in best]
        count = [0] * len(decode)
        for row in trial:
            for p in index.of_row(row):
                count[p] += 1
        # Drop the generated row that alone holds the fewest pairs (the last of equals).
        drop = min(range(keep, len(trial)),
                   key=lambda r: (sum(count[p] == 1 for p in index.of_row(trial[r])), -r))
        for p in index.of_row(trial[drop]):
            count[p] -= 1
        del trial[drop]
        holes = [p for p in range(len(decode)) if required[p] and not count[p]]
        where = {p: n for n, p in enumerate(holes)}    # position in holes, for O(1) removal

        def lose(p: int) -> None:
            count[p] -= 1
            if not count[p] and required[p]:
                where[p] = len(holes)
                holes.append(p)

        def gain(p: int) -> None:
            if not count[p] and required[p]:
                n = where.pop(p)
                last = holes.pop()
                if last != p:
                    holes[n], where[last] = last, n
            count[p] += 1

        for _ in range(SHRINK_MOVES):
            if not holes:
                break
            i, a, j, b = decode[holes[rng.below(len(holes))]]
            moves, best_delta = [], None
            for r in range(keep, len(trial)):
                row = trial[r]
                changed = [f for f, v in ((i, a), (j, b)) if row[f] != v]
                new = list(row)
                new[i], new[j] = a, b
                if constrained:
                    mask = -1
                    for f in range(k):
                        mask &= bits[f][new[f]]
                    if not mask:
                        continue
                removed, added = [], []
                for c in changed:
                    for g in range(k):
                        if g != c and not (g in changed and g < c):   # (i, j) once
                            removed.append(pid(c, row[c], g, row[g]))
                            added.append(pid(c, new[c], g, new[g]))
                delta = (sum(1 for p in added if not count[p] and required[p])
                         - sum(1 for p in removed if count[p] == 1 and required[p]))
                if best_delta is None or delta > best_delta:
                    moves, best_delta = [], delta
                if delta == best_delta:
                    moves.append((r, new, removed, added))
            if not moves:
                continue
            r, new, removed, added = moves[rng.below(len(moves))]
            for p in removed:
                lose(p)
            for p in added:
                gain(p)
            trial[r] = new
        if holes:
            break
        best = [tuple(r) for r in trial]
    return best
