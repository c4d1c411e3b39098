"""The C harness against a plain Python reference of the same priority-queue cache.

The reference is slow and obvious: min() over a dict to evict, an OrderedDict ghost.
Agreement on miss counts for several priority functions checks the heap, the
tie-break, the ghost list and the inputs' definitions.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest

from helpers import write_trace
from pytest_policysmith.cache.simulator import build, simulate
from pytest_policysmith.cache.traces import open_trace


def reference(ids, sizes, cap, prio, ignore_size):
    cached, count, insert, osize, last = {}, {}, {}, {}, {}
    ghost: OrderedDict = OrderedDict()
    used = ghost_used = seq = misses = 0
    for now, (o, s) in enumerate(zip(ids, sizes)):
        sz = 1 if ignore_size else int(s)
        irr = float(sum(o2 != o and t > last[o] for o2, t in last.items())) if o in last else -1.0
        g = (0.0, 0.0, 0.0)
        if o in cached:
            count[o] += 1
        else:
            misses += 1
            if sz > cap:
                last[o] = now
                continue
            while used + sz > cap:
                victim = min(cached, key=lambda k: cached[k])
                del cached[victim]
                used -= osize[victim]
                ghost[victim] = (count[victim], now, osize[victim])
                ghost_used += osize[victim]
                while ghost_used > cap:
                    _, (_, _, gs) = ghost.popitem(last=False)
                    ghost_used -= gs
            if o in ghost:
                gc, gt, gs = ghost.pop(o)
                ghost_used -= gs
                g = (1.0, float(gc), float(now - gt))
            count[o], insert[o], osize[o] = 1, now, sz
            used += sz
        p = prio(now, count[o], osize[o], insert[o], last.get(o, -1), cap, used, len(cached) + (o not in cached), g,
                 irr)
        seq += 1
        cached[o] = (p, seq)
        last[o] = now
    return misses


CASES = {
    "lfu_then_recency": ("return obj.count * 1000.0 + now * 0.001;",
                         lambda now, c, s, ins, prev, cap, used, n, g, irr: c * 1000.0 + now * 0.001),
    "ties_by_seq": ("return obj.count > 2.0 ? 1.0 : 0.0;",
                    lambda now, c, s, ins, prev, cap, used, n, g, irr: 1.0 if c > 2.0 else 0.0),
    "reuse_distance": ("return now - 0.5 * (now - obj.prev_access);",
                       lambda now, c, s, ins, prev, cap, used, n, g, irr: now - 0.5 * (now - prev)),
    "ghost_boost": ("return now + ghost.hit * 40.0 + ghost.count * 3.0 - ghost.age * 0.01;",
                    lambda now, c, s, ins, prev, cap, used, n, g, irr: now + g[0] * 40.0 + g[1] * 3.0 - g[2] * 0.01),
    # Entries move between the run list (p = now, sorting last) and the heap, both ways.
    "run_and_heap": ("return obj.count > 3.0 && obj.count < 6.0 ? now * 0.5 : now;",
                     lambda now, c, s, ins, prev, cap, used, n, g, irr: now * 0.5 if 3.0 < c < 6.0 else now),
    # LIRS's inter-reference recency: distinct others since the previous request.
    "irr_lirs_like": ("return obj.irr < 0.0 ? now - 50.0 : now - 2.0 * obj.irr;",
                      lambda now, c, s, ins, prev, cap, used, n, g, irr: now - 50.0 if irr < 0 else now - 2.0 * irr),
    "size_aware": ("return ps_div(now, obj.size) + obj.insert_time;",
                   lambda now, c, s, ins, prev, cap, used, n, g, irr: (now / s if s else now) + ins),
}


@pytest.mark.parametrize("ignore_size", [True, False])
@pytest.mark.parametrize("case", sorted(CASES))
def test_harness_equals_reference(tmp_path, template, case, ignore_size):
    rng = np.random.default_rng(7)
    n = 6000
    ids = (rng.zipf(1.3, size=n) % 400).astype(np.uint64)
    sizes = rng.integers(1, 9, size=n).astype(np.uint32) * 100
    sizes = np.asarray([100 * (1 + (int(i) * 7919) % 8) for i in ids], dtype=np.uint32)  # stable per object
    trace = open_trace(str(write_trace(tmp_path / "t.oracleGeneral.bin", ids, sizes)))
    cap = 60 if ignore_size else 60 * 450
    body, fn = CASES[case]
    res = simulate(build(template, body, case), trace, cap, ignore_size)
    assert res.misses == reference(list(ids), list(sizes), cap, fn, ignore_size)
    assert res.requests == n


@pytest.mark.parametrize("body", [CASES["ties_by_seq"][0], CASES["lfu_then_recency"][0], CASES["run_and_heap"][0],
                                  "return obj.count > cache.count_p50 ? now : now - cache.age_p90;"])
def test_renumbering_the_tie_break_changes_nothing(tmp_path, template, body):
    """The heap's update counter is 32 bits and is renumbered, in order, before it wraps; a harness
    that renumbers every 97 updates must give the same misses and evictions, for a tie-heavy body and
    one that reads percentiles (sampled from heap slots, so a changed layout would show)."""
    from pytest_policysmith.cache.simulator import ENTRY, Program
    from pytest_policysmith.compile import compile_c, compile_shared

    rng = np.random.default_rng(11)
    ids = (rng.zipf(1.3, size=8000) % 500).astype(np.uint64)
    trace = open_trace(str(write_trace(tmp_path / "r.oracleGeneral.bin", ids, np.full(len(ids), 1, np.uint32))))
    plain = build(template, body, "plain")
    harness = template.render_harness(template.needs(body))
    renumbering = Program(compile_c("#define PS_SEQ_LIMIT 97\n" + harness),
                          compile_shared(template.render(body, candidate_name="plain"), ENTRY))
    a, b = simulate(plain, trace, 50, True), simulate(renumbering, trace, 50, True)
    assert (a.misses, a.evictions) == (b.misses, b.evictions)
    assert a.misses > 0


def test_irr_is_lrus_hit_condition(tmp_path, template):
    """LRU hits exactly when fewer than `capacity` distinct others came since the previous request:
    a body that is not finite on every other request counts, whatever it evicts, LRU's misses."""
    rng = np.random.default_rng(5)
    ids = (rng.zipf(1.2, size=30000) % 3000).astype(np.uint64)
    trace = open_trace(str(write_trace(tmp_path / "i.oracleGeneral.bin", ids, np.full(len(ids), 1, np.uint32))))
    lru = simulate(build(template, "return now;"), trace, 300, True)
    flag = simulate(build(template, "return obj.irr >= 0.0 && obj.irr < cache.capacity ? now : log(-1.0);"),
                    trace, 300, True)
    assert 0 < lru.misses < len(ids)
    assert flag.nonfinite_priorities == lru.misses


def test_object_larger_than_cache_is_a_miss_and_not_inserted(tmp_path, template):
    ids = np.array([1, 2, 1, 2, 1], dtype=np.uint64)
    sizes = np.array([10, 1000, 10, 1000, 10], dtype=np.uint32)
    trace = open_trace(str(write_trace(tmp_path / "big.oracleGeneral.bin", ids, sizes)))
    res = simulate(build(template, "return now;"), trace, 100, ignore_size=False)
    assert res.misses == 3  # object 1 once, object 2 twice (never inserted)
    assert res.bytes_missed == 2010
    assert res.evictions == 0


def test_features_compile_only_when_read(template):
    plain = template.render_harness(template.needs("return now;"))
    rich = template.render_harness(template.needs("return now + obj.freq + ghost.hit + cache.age_p50 + obj.irr;"))
    assert "#define PS_NEED_SKETCH 0" in plain and "#define PS_NEED_SKETCH 1" in rich
    assert "#define PS_NEED_PCT 1" in rich and "#define PS_NEED_GHOST 1" in rich
    assert "#define PS_NEED_IRR 0" in plain and "#define PS_NEED_IRR 1" in rich


def test_percentiles_and_sketch_are_sane(tmp_path, template):
    """A policy keyed on the sketch behaves like LFU on a skewed trace: fewer misses than MRU."""
    rng = np.random.default_rng(3)
    ids = (rng.zipf(1.2, size=20000) % 2000).astype(np.uint64)
    trace = open_trace(str(write_trace(tmp_path / "z.oracleGeneral.bin", ids, np.full(len(ids), 4096, np.uint32))))
    freq = simulate(build(template, "return obj.freq + cache.count_p50 * 0.0 + cache.age_p90 * 0.0;"), trace, 100, True)
    mru = simulate(build(template, "return -now;"), trace, 100, True)
    assert freq.nonfinite_priorities == 0
    assert freq.misses < mru.misses


def test_slot_scope_groups_a_slots_items():
    from pytest_policysmith.search.schedule import slot_scope

    assert slot_scope("ctx/test_rules.py::test_compiles[r03c07]") == "r03c07"
    assert slot_scope("ctx/test_rules.py::policysmith_evaluate[r03c07]") == "r03c07"
    assert slot_scope("ctx/test_rules.py::test_x[r03c07-big]") == "r03c07"
    assert slot_scope("ctx/test_rules.py::test_x[small-r12c00]") == "r12c00"
    assert slot_scope("ctx/test_other.py::test_plain") == "ctx/test_other.py::test_plain"


def test_parenthesized_return_is_not_a_call(template):
    from pytest_policysmith.checking.rules import static_violations

    assert static_violations("return (now + obj.count);", template) == []
    assert static_violations("return system(now);", template)


MEMO_CHECK = r"""
#include <stdio.h>
#include <string.h>
static int same(double a, double b) { return memcmp(&a, &b, sizeof a) == 0; }
int main(void)
{
    const double xs[] = {0.0, -0.0, 1.0, 2.0, 3.0, 7.0, PS_MEMO - 1.0, PS_MEMO, PS_MEMO + 1.0, 1e6, 0.5, 2.5, -1.0, -3.0,
                         1.0 / 0.0, -1.0 / 0.0, 0.0 / 0.0};
    const double ys[] = {1.9, 2.0, 1.25, 0.5, -1.0, 3.0, 0.0, -0.5, 0.0 / 0.0};
    int bad = 0;
    for (int rep = 0; rep < 3; rep++)  /* the second and third time from the memo */
        for (unsigned i = 0; i < sizeof xs / sizeof *xs; i++) {
            double x = xs[i];
            bad += !same(ps_log1p(x), (log1p)(x)) + !same(ps_log(x), (log)(x));
            for (unsigned j = 0; j < sizeof ys / sizeof *ys; j++)
                bad += !same(ps_pow(x, ys[j]), (pow)(x, ys[j]));
        }
    for (int k = 0; k < PS_MEMO + 10; k++)  /* every small count, and past the memo */
        for (int e = 0; e < 7; e++) {
            double y = 1.0 + e * 0.13;
            bad += !same(ps_pow(k, y), (pow)(k, y)) + !same(ps_log1p(k), (log1p)(k));
        }
    for (int k = 2; k < 5; k++)  /* more exponents than pow's memo has slots: collisions */
        for (int e = 0; e < 40000; e++) {
            double y = 1.0 + e * 1e-4;
            bad += !same(ps_pow(k, y), (pow)(k, y));
        }
    printf("%d\n", bad);
    return bad != 0;
}
"""


def test_the_math_memos_return_what_libm_returns(tmp_path, template):
    """policy.c.j2 memoizes pow, log1p and log on small whole numbers (a fifth of a simulation was libm):
    the memo must hand back libm's value bit for bit, for -0.0, NaN, infinities, the memo's edges and
    after collisions, so that no score changes."""
    import subprocess

    from pytest_policysmith.compile import CFLAGS

    src = tmp_path / "memo.c"
    src.write_text(template.render("return now;", candidate_name="memo") + MEMO_CHECK)
    exe = tmp_path / "memo"
    subprocess.run(["gcc", *CFLAGS, str(src), "-o", str(exe), "-lm"], check=True, capture_output=True)
    out = subprocess.run([str(exe)], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == "0", out.stdout


def _counts(res):
    return {k: v for k, v in res.as_dict().items() if k not in ("seconds", "requests_per_second")}


@pytest.mark.parametrize("body", [
    "return obj.freq;",
    "return now + 1000.0 * obj.freq + ghost.hit * cache.age_p50;",  # with the ghost list and percentiles too
    "return obj.irr < 0.0 ? now - 50.0 : now - 2.0 * obj.irr;",
    "return now - obj.irr + 100.0 * obj.freq;",  # both columns from files
])
def test_column_files_give_the_same_simulation(tmp_path, template, body):
    """obj.freq and obj.irr read from the once-computed files equal those the run computes, whole or cut short."""
    from dataclasses import replace

    from pytest_policysmith.cache.simulator import COLUMN_FILE_MIN, COLUMNS, column_file
    from pytest_policysmith.cache.traces import synthetic_trace

    trace = open_trace(str(synthetic_trace(tmp_path / "s.oracleGeneral.bin.zst", COLUMN_FILE_MIN + 20_000, 9_000, 4)))
    program = build(template, body)
    files = {c.name: column_file(program, c, trace, 700, True) for c in COLUMNS}
    assert [c.name for c in COLUMNS if files[c.name]] == list(program.columns) != []
    for c in COLUMNS:
        assert files[c.name] is None or files[c.name].stat().st_size == 64 + c.bytes_per_request * trace.n_requests
    inline = replace(program, columns=())  # the harness computes them itself, as on a short trace
    assert all(column_file(inline, c, trace, 700, True) is None for c in COLUMNS)
    assert _counts(simulate(program, trace, 700, True)) == _counts(simulate(inline, trace, 700, True))
    cut = COLUMN_FILE_MIN // 2
    assert _counts(simulate(program, trace, 700, True, cut)) == _counts(simulate(inline, trace, 700, True, cut))


def test_the_irr_file_serves_every_cache_size(tmp_path, template):
    """The IRR depends on the trace alone: one file for every capacity; the sketch's, one per capacity."""
    from pytest_policysmith.cache.simulator import COLUMN_FILE_MIN, COLUMNS, column_file
    from pytest_policysmith.cache.traces import synthetic_trace

    trace = open_trace(str(synthetic_trace(tmp_path / "s.oracleGeneral.bin.zst", COLUMN_FILE_MIN, 9_000, 4)))
    program = build(template, "return now - obj.irr + obj.freq;")
    sketch, irr = COLUMNS
    assert column_file(program, irr, trace, 700, True) == column_file(program, irr, trace, 7_000, False)
    assert column_file(program, sketch, trace, 700, True) != column_file(program, sketch, trace, 7_000, True)


def test_a_sketch_file_for_another_cache_size_is_refused(tmp_path, template):
    """The file's shape is checked: another capacity's estimates would give wrong numbers, silently."""
    import shutil

    from pytest_policysmith.cache.simulator import COLUMN_FILE_MIN, COLUMNS, SimulationError, column_file
    from pytest_policysmith.cache.traces import synthetic_trace

    trace = open_trace(str(synthetic_trace(tmp_path / "s.oracleGeneral.bin.zst", COLUMN_FILE_MIN, 9_000, 4)))
    program = build(template, "return obj.freq;")
    sketch = COLUMNS[0]
    small, large = column_file(program, sketch, trace, 700, True), column_file(program, sketch, trace, 7_000, True)
    assert small != large
    shutil.copyfile(small, large)
    with pytest.raises(SimulationError, match="sketch file does not match"):
        simulate(program, trace, 7_000, True)


def test_a_column_file_of_another_kind_is_refused(tmp_path, template):
    """A sketch file where the IRR's belongs (a mixed-up cache) stops the run instead of being misread."""
    import shutil

    from pytest_policysmith.cache.simulator import COLUMN_FILE_MIN, COLUMNS, SimulationError, column_file
    from pytest_policysmith.cache.traces import synthetic_trace

    trace = open_trace(str(synthetic_trace(tmp_path / "s.oracleGeneral.bin.zst", COLUMN_FILE_MIN, 9_000, 4)))
    program = build(template, "return now - obj.irr + obj.freq;")
    sketch, irr = (column_file(program, c, trace, 700, True) for c in COLUMNS)
    shutil.copyfile(sketch, irr)
    with pytest.raises(SimulationError, match="bad PSIRR1 file"):
        simulate(program, trace, 700, True)
