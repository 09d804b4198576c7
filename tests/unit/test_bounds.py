"""Stack bounds on hand-built call graphs: sums along the deepest path, tail calls,
recursion, unknown frames and unresolved calls, and what each does to the bound's kind."""

from __future__ import annotations

from handmade import Call, Fn, calls, graph

from fwharden.harden.analysis.bounds import (
    AT_LEAST,
    EXACT,
    UNBOUNDED,
    Bound,
    compute_depths,
    deepest_path,
    function_frames,
    switched_root_depth,
)
from fwharden.harden.analysis.frames import FrameSize, parse_su


def _depths(spec, roots=None, su=None):
    made = graph(spec, roots)
    frames = function_frames(made.graph, su or {})
    return made, frames, compute_depths(made.graph, frames)


def test_depth_is_the_deepest_sum_of_frames() -> None:
    # isr(16) -> a(32) -> leaf(8) = 56; isr -> b(48) = 64: the deeper branch wins.
    spec = {"isr": Fn(16, calls("a", "b")), "a": Fn(32, calls("leaf")), "b": Fn(48),
            "leaf": Fn(8)}
    made, _, depths = _depths(spec)
    isr = made.address["isr"]
    assert depths.depth[isr] == Bound(64, EXACT)
    assert [made.graph.function(e.callee).name for e in deepest_path(depths, isr)] == ["b"]
    assert depths.depth[made.address["a"]] == Bound(40, EXACT)


def test_a_tail_call_adds_only_the_live_part_of_the_frame() -> None:
    spec = {"isr": Fn(24, (Call("callee", "tail", live_frame=8),)), "callee": Fn(40)}
    made, _, depths = _depths(spec)
    assert depths.depth[made.address["isr"]] == Bound(48, EXACT)   # 8 live + 40, not 24 + 40


def test_recursion_is_unbounded_and_callers_inherit_it() -> None:
    spec = {"isr": Fn(8, calls("walk")), "walk": Fn(16, calls("walk"))}
    made, _, depths = _depths(spec)
    assert depths.depth[made.address["walk"]].kind == UNBOUNDED
    assert depths.depth[made.address["isr"]].kind == UNBOUNDED
    assert [made.address["walk"]] in depths.cycles


def test_mutual_recursion_is_one_cycle() -> None:
    spec = {"isr": Fn(8, calls("ping")), "ping": Fn(8, calls("pong")), "pong": Fn(8, calls("ping"))}
    made, _, depths = _depths(spec)
    assert sorted(depths.cycles) == [sorted([made.address["ping"], made.address["pong"]])]


def test_unresolved_indirect_call_makes_the_bound_a_minimum() -> None:
    spec = {"isr": Fn(8, calls("helper")), "helper": Fn(16, (Call(None, "indirect"),))}
    made, _, depths = _depths(spec)
    assert depths.depth[made.address["isr"]] == Bound(24, AT_LEAST)


def test_dynamic_frame_is_a_minimum_unless_the_su_file_bounds_it() -> None:
    spec = {"isr": Fn(8, calls("vla")), "vla": Fn(32, dynamic=True)}
    made, frames, depths = _depths(spec)
    assert depths.depth[made.address["isr"]] == Bound(40, AT_LEAST)
    # "dynamic,bounded" in the .su file is an upper bound; it never goes below the decoder.
    su = dict(parse_su("vla.c:3:5:vla\t64\tdynamic,bounded\n"))
    made, frames, depths = _depths(spec, su=su)
    assert frames[made.address["vla"]] == FrameSize(64, True, ".su")
    assert depths.depth[made.address["isr"]] == Bound(72, EXACT)


def test_su_frame_below_the_disassembly_keeps_the_larger() -> None:
    spec = {"isr": Fn(24)}
    made, frames, _ = _depths(spec, su=dict(parse_su("a.c:1:1:isr\t8\tstatic\n")))
    assert frames[made.address["isr"]].bytes == 24


def test_a_call_on_another_stack_is_not_counted_on_this_one() -> None:
    # A fault handler that moves to its own stack before calling: the callee runs there.
    spec = {"fault": Fn(0, (Call("report", other_stack=True),)), "report": Fn(200)}
    made, frames, depths = _depths(spec)
    fault = made.address["fault"]
    assert depths.depth[fault] == Bound(0, EXACT)
    # For a reset entry the calls after the switch are exactly what runs on the new stack.
    assert switched_root_depth(made.graph, frames, depths, fault) == Bound(200, EXACT)


def test_bound_arithmetic_keeps_the_least_certain_kind() -> None:
    assert Bound(8, EXACT).plus(Bound(4, AT_LEAST)) == Bound(12, AT_LEAST)
    assert Bound(8, UNBOUNDED).widest(Bound(100, EXACT)) == Bound(100, UNBOUNDED)
    assert Bound(8, AT_LEAST).describe() == ">= 8 B" and Bound(0, UNBOUNDED).describe() == "unbounded"
    assert sorted([Bound(900, EXACT), Bound(10, AT_LEAST)], key=Bound.rank)[-1].kind == AT_LEAST
