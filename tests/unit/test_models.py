"""Issue 12 items 1 and 2: library models as data, recursion bounds, intra-function bl.

Call graphs are built by hand (edges set directly) so the expected depths are sums anyone
can redo on paper; the intra-function `bl` case is real Thumb code (bytes below).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from synth import image

from fwharden.board_profiles.errors import ConfigError
from fwharden.board_profiles.project import HardenPolicy, harden_policy
from fwharden.harden.analysis.bounds import EXACT, UNBOUNDED, compute_depths
from fwharden.harden.analysis.callgraph import CallGraph, Edge
from fwharden.harden.analysis.frames import FrameSize
from fwharden.harden.analysis.models import (
    CycleModel,
    Model,
    apply_models,
    builtin_models,
    describe_cycle,
    parse_model,
)
from fwharden.harden.analysis.verify import verify
from fwharden.harden.errors import HardenError

# Five 4-byte functions of nops: only their addresses and names matter here.
NAMES = ["main", "__sfp", "__sinit.part.0", "memset", "user_fn"]
CODE = "00bf00bf" * len(NAMES)
SYMBOLS = {n: (0x101 + 4 * i, 4, "STT_FUNC", "STB_GLOBAL") for i, n in enumerate(NAMES)}
FRAMES = {"main": 8, "__sfp": 24, "__sinit.part.0": 40, "memset": 12, "user_fn": 16}


def _graph(extra_cycle_member: bool = False) -> tuple[CallGraph, dict[int, FrameSize]]:
    img = image("arm", CODE, 0x100, SYMBOLS)
    at = {n: img.function_named(n).address for n in NAMES}
    calls = [("main", "__sfp"), ("__sfp", "__sinit.part.0"), ("__sinit.part.0", "__sfp"),
             ("__sinit.part.0", "memset")]
    if extra_cycle_member:
        calls += [("__sfp", "user_fn"), ("user_fn", "__sfp")]
    graph = CallGraph(img)
    for name in NAMES:
        graph.edges[at[name]] = []
    for n, (caller, callee) in enumerate(calls):
        graph.edges[at[caller]].append(Edge(at[caller], at[callee], 0x200 + n, "call", 0))
    frames = {at[n]: FrameSize(FRAMES[n], True, "disassembly") for n in NAMES}
    return graph, frames


NEWLIB = Model("newlib", "test", ("__sfp",),
               recursion=(CycleModel(frozenset({"__sfp", "__sinit"}), 2, "test"),))


def test_a_modelled_cycle_gets_depth_times_frames_plus_the_deepest_exit() -> None:
    graph, frames = _graph()
    use = apply_models(graph.image, graph, {}, (NEWLIB,))
    depths = compute_depths(graph, frames, use.cycle_depth)
    main = graph.image.function_named("main").address
    # main 8 + 2 x (__sfp 24 + __sinit 40) + memset 12, computed by hand
    assert depths.depth[main].bytes == 8 + 2 * (24 + 40) + 12
    assert depths.depth[main].kind == EXACT
    assert depths.cycles == [] and len(depths.bounded) == 1
    assert any("newlib" in note and "__sinit.part.0" in note for note in use.notes)


def test_without_a_model_the_cycle_is_unbounded() -> None:
    graph, frames = _graph()
    depths = compute_depths(graph, frames, apply_models(graph.image, graph, {}, ()).cycle_depth)
    assert depths.depth[graph.image.function_named("main").address].kind == UNBOUNDED
    assert len(depths.cycles) == 1


def test_a_cycle_through_a_function_the_model_does_not_name_stays_unbounded() -> None:
    graph, frames = _graph(extra_cycle_member=True)
    use = apply_models(graph.image, graph, {}, (NEWLIB,))
    depths = compute_depths(graph, frames, use.cycle_depth)
    assert depths.depth[graph.image.function_named("main").address].kind == UNBOUNDED
    assert use.notes == []


def test_project_recursion_bound_wins_over_the_model_and_unknown_keys_warn() -> None:
    graph, frames = _graph(extra_cycle_member=True)
    use = apply_models(graph.image, graph, {"user_fn": 3, "no_such_fn": 2}, (NEWLIB,))
    depths = compute_depths(graph, frames, use.cycle_depth)
    main = graph.image.function_named("main").address
    assert depths.depth[main].bytes == 8 + 3 * (24 + 40 + 16) + 12
    assert any("[harden.recursion]" in n for n in use.notes)
    assert any("no_such_fn" in w for w in use.warnings)


def test_a_model_needs_its_detect_symbols() -> None:
    graph, frames = _graph()
    other = Model("other", "test", ("_impure_ptr",), recursion=NEWLIB.recursion)
    use = apply_models(graph.image, graph, {}, (other,))
    assert use.models == ()
    assert compute_depths(graph, frames, use.cycle_depth).cycles


def test_cycle_is_named_as_a_real_call_path() -> None:
    graph, _ = _graph(extra_cycle_member=True)
    component = sorted(graph.image.function_named(n).address
                       for n in ("__sfp", "__sinit.part.0", "user_fn"))
    text = describe_cycle(graph, component)
    assert text.startswith("__sfp -> ") and text.count("__sfp") >= 2


def test_builtin_models_load_and_cover_newlib_and_picolibc() -> None:
    models = {m.name: m for m in builtin_models()}
    assert {"newlib", "picolibc"} <= set(models)
    newlib = models["newlib"]
    assert any(c.functions >= {"__sfp", "__sinit"} and c.depth == 2 for c in newlib.recursion)
    assert all(c.why.strip() for c in newlib.recursion)


@pytest.mark.parametrize("text, key", [
    ("[model]\nname = 'x'\n", "model.detect"),
    ("[model]\nname = 'x'\ndetect = ['a']\n[[recursion]]\nfunctions = ['a']\ndepth = 0\n"
     "why = 'w'\n", "recursion[0].depth"),
    ("[model]\nname = 'x'\ndetect = ['a']\n[[recursion]]\nfunctions = ['a']\ndepth = 2\n",
     "recursion[0].why"),
    ("[model]\nname = 'x'\ndetect = ['a']\n[[infeasible]]\ncaller = 'a'\ncallee = 'b'\n"
     "why = 'w'\nextra = 1\n", "infeasible[0].extra"),
    ("[modle]\n", "modle"),
    ("[model\n", "-"),
])
def test_model_mistakes_are_one_line_naming_file_and_key(text: str, key: str) -> None:
    with pytest.raises(HardenError) as info:
        parse_model("lib.toml", text)
    message = str(info.value)
    assert message.startswith(f"lib.toml: {key}:") and "\n" not in message


def test_harden_recursion_key_is_parsed_and_checked() -> None:
    policy = harden_policy({"recursion": {"walk": 4}}, Path("firmware.toml"))
    assert policy.recursion == (("walk", 4),)
    with pytest.raises(ConfigError):
        harden_policy({"recursion": {"walk": 0}}, Path("firmware.toml"))


# Issue 12 item 1. Assembled with arm-none-eabi-as -mcpu=cortex-m4 -mthumb, ld -Ttext 0x100:
# dmul @ 0x100:   push {r4, r5, r6, lr}; cmp r0, #0; it eq; bleq 1f; pop {r4, r5, r6, pc}
#              1: movs r0, #0; pop {r4, r5, r6, pc}        (libgcc's __aeabi_dmul shape)
# caller @ 0x110: push {r3, lr}; bl dmul; pop {r3, pc}
# reset @ 0x118:  b reset
LOCAL_CODE = "70b5002808bf00f001f870bd002070bd08b5fff7f5ff08bdfff7febf"
LOCAL_SYMBOLS = {"dmul": (0x101, 16, "STT_FUNC", "STB_GLOBAL"),
                 "caller": (0x111, 8, "STT_FUNC", "STB_GLOBAL"),
                 "reset": (0x119, 4, "STT_FUNC", "STB_GLOBAL")}


def test_bl_inside_the_calling_function_is_not_recursion() -> None:
    img = image("arm", LOCAL_CODE, 0x100, LOCAL_SYMBOLS,
                vectors=[0x20001000, "reset", 0, "caller"])
    result = verify(img, None, HardenPolicy(), {})
    assert not [f for f in result.findings if f.rule == "recursion"]
    by_name = {i.name: i for i in result.interrupts}
    # caller 8 + dmul 16 (push of four registers), exact: objdump above
    assert by_name["caller"].stack.bytes == 24 and by_name["caller"].stack.kind == EXACT


def test_unbounded_thread_recursion_is_named_with_the_fix() -> None:
    # reset @ 0x100: bl walk; b.w reset    walk @ 0x108: push {r3, lr}; bl walk; pop {r3, pc}
    # (arm-none-eabi-as -mcpu=cortex-m4 -mthumb, ld -Ttext 0x100)
    code = "00f002f8fff7fcbf08b5fff7fdff08bd"
    symbols = {"reset": (0x101, 8, "STT_FUNC", "STB_GLOBAL"),
               "walk": (0x109, 8, "STT_FUNC", "STB_GLOBAL")}
    img = image("arm", code, 0x100, symbols, vectors=[0x20001000, "reset"])
    result = verify(img, None, HardenPolicy(), {})
    (finding,) = [f for f in result.findings if f.rule == "recursion"]
    assert "walk -> walk" in finding.message and "[harden.recursion]" in finding.message
    assert finding.root == "reset" and finding.path == ("reset", "walk")
    bounded = verify(img, None, HardenPolicy(recursion=(("walk", 3),)), {})
    assert not [f for f in bounded.findings if f.rule == "recursion"]
    assert bounded.thread_stack is not None
    assert bounded.thread_stack.worst_case.kind == EXACT
    assert any(f.rule == "library-model" and f.severity == "note" for f in bounded.findings)


def test_a_cycle_of_frame_free_tail_branches_is_a_loop_not_recursion() -> None:
    # data_cpy_loop <-> data_cpy in pico-sdk's crt0: labels that branch to each other.
    img = image("arm", CODE, 0x100, SYMBOLS)
    at = {n: img.function_named(n).address for n in NAMES}
    graph = CallGraph(img)
    for name in NAMES:
        graph.edges[at[name]] = []
    graph.edges[at["main"]].append(Edge(at["main"], at["__sfp"], 0x200, "call", 0))
    graph.edges[at["__sfp"]].append(Edge(at["__sfp"], at["user_fn"], 0x204, "tail", 0))
    graph.edges[at["user_fn"]].append(Edge(at["user_fn"], at["__sfp"], 0x208, "tail", 0))
    graph.edges[at["user_fn"]].append(Edge(at["user_fn"], at["memset"], 0x20c, "call", 0))
    frames = {at[n]: FrameSize(FRAMES[n], True, "disassembly") for n in NAMES}
    depths = compute_depths(graph, frames)
    assert depths.cycles == []
    # main 8 + the larger of __sfp 24 and user_fn 16 + memset 12 (its call out)
    assert depths.depth[at["main"]].bytes == 8 + max(24, 16 + 12)
    # a tail branch that keeps part of its frame (live_frame > 0) stays recursion
    graph.edges[at["user_fn"]][0] = Edge(at["user_fn"], at["__sfp"], 0x208, "tail", 8)
    assert compute_depths(graph, frames).cycles


def test_tinygo_model_states_each_claim_with_its_reason() -> None:
    (model,) = [m for m in builtin_models() if m.name == "tinygo"]
    assert model.detect == ("tinygo_scanCurrentStack",)
    assert "runtime.nilPanic" in model.crash_paths and "runtime.runtimePanicAt" in model.crash_paths
    assert set(model.fault_handlers) == {"HardFault_Handler", "runtime.handleException",
                                         "runtime/interrupt.handleException"}
    (cycle,) = model.recursion
    assert cycle.depth == 2 and "runtime.nilPanic" in cycle.functions and cycle.why
    assert {c.function: c.registered_by for c in model.callbacks} == {
        "(*machine.TIM).handleUPInterrupt$bound": ("SetWraparoundInterrupt",),
        "(*machine.TIM).handleOCInterrupt$bound": ("SetMatchInterrupt",)}
    assert all(c.why for c in model.callbacks)


def test_callback_entry_needs_its_keys() -> None:
    text = ('[model]\nname = "x"\ndetect = ["a"]\n[[callback]]\nfunction = "h"\n'
            'why = "because"\n')
    with pytest.raises(HardenError, match=r"t.toml: callback\[0\].registered_by: missing"):
        parse_model("t.toml", text)
