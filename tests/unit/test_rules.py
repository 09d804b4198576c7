"""Forbidden calls, unresolved calls and recursion found by walking hand-built call graphs."""

from __future__ import annotations

from handmade import Call, Fn, calls, graph

from fwharden.harden.analysis.bounds import compute_depths, function_frames
from fwharden.harden.analysis.findings import DEFAULT_SEVERITY, RULE_TEXT
from fwharden.harden.analysis.reach import root_findings
from fwharden.harden.analysis.roots import Root
from fwharden.harden.analysis.rules import base_name, rule_set


def _findings(spec, root="isr", forbid=(), allow=(), severity=None, indirect=None):
    made = graph(spec, (root,), indirect=indirect)
    frames = function_frames(made.graph, {})
    depths = compute_depths(made.graph, frames)
    rules = rule_set(forbid, allow)
    verdicts = {a: rules.match(made.graph.function(a).names) for a in made.graph.edges}
    func = made.image.function_at(made.address[root])
    return made, root_findings(made.graph, depths, frames, Root(func, (16,), "handler"),
                               verdicts, {**DEFAULT_SEVERITY, **(severity or {})})


def test_malloc_two_calls_down_is_found_with_its_path() -> None:
    spec = {"isr": Fn(8, calls("log")), "log": Fn(8, calls("helper")),
            "helper": Fn(8, calls("malloc")), "malloc": Fn(16)}
    made, found = _findings(spec)
    [finding] = found
    assert (finding.rule, finding.severity, finding.callee) == ("heap", "error", "malloc")
    assert finding.path == ("isr", "log", "helper", "malloc")
    assert finding.root == "isr" and finding.via == "call"
    assert finding.site == made.address["helper"] + 4


def test_clone_suffix_and_aliases_still_match() -> None:
    assert base_name("printf.constprop.0.isra.1") == "printf"
    spec = {"isr": Fn(8, calls("fmt")), "fmt": Fn(8, aliases=("printf.constprop.0",))}
    _, found = _findings(spec)
    assert [(f.rule, f.callee) for f in found] == [("stdio", "printf")]


def test_the_walk_stops_at_a_forbidden_function() -> None:
    # printf calls malloc internally: one finding (printf), not two.
    spec = {"isr": Fn(8, calls("printf")), "printf": Fn(8, calls("malloc")), "malloc": Fn(8)}
    _, found = _findings(spec)
    assert [f.callee for f in found] == ["printf"]


def test_project_rules_forbid_and_allow_with_reasons() -> None:
    spec = {"isr": Fn(8, calls("flash_erase", "free")), "flash_erase": Fn(8), "free": Fn(8)}
    _, found = _findings(spec, forbid=(("flash_erase", "blocks for 40 ms"),),
                         allow=(("free", "our pool allocator, lock-free"),))
    [finding] = found
    assert finding.rule == "project" and finding.reason == "blocks for 40 ms"


def test_unresolved_indirect_call_is_a_finding_with_no_callee() -> None:
    spec = {"isr": Fn(8, (Call(None, "indirect"),))}
    _, found = _findings(spec)
    [finding] = found
    assert (finding.rule, finding.callee, finding.via) == ("indirect-call", None, "indirect")
    assert finding.title == RULE_TEXT["indirect-call"][0]


def test_harden_indirect_names_the_targets() -> None:
    spec = {"isr": Fn(8, (Call(None, "indirect"),)), "on_rx": Fn(8, calls("malloc")),
            "malloc": Fn(8)}
    made, found = _findings(spec, indirect={"isr": ("on_rx",)})
    assert [(f.rule, f.path) for f in found] == [("heap", ("isr", "on_rx", "malloc"))]
    assert made.graph.config_errors == []
    made, _ = _findings(spec, indirect={"isr": ("no_such_function",)})
    assert "no_such_function" in made.graph.config_errors[0]


def test_recursion_is_reported_once_with_its_cycle() -> None:
    spec = {"isr": Fn(8, calls("a")), "a": Fn(8, calls("b")), "b": Fn(8, calls("a"))}
    _, found = _findings(spec)
    [finding] = found
    assert finding.rule == "recursion" and set(finding.cycle) == {"a", "b"}


def test_undecodable_bytes_and_dynamic_frames_are_warnings() -> None:
    spec = {"isr": Fn(8, calls("odd", "vla")), "odd": Fn(8, unknown=("udf #0",)),
            "vla": Fn(16, dynamic=True)}
    _, found = _findings(spec)
    assert sorted((f.rule, f.severity) for f in found) == [("dynamic-stack", "warning"),
                                                          ("undecodable", "warning")]


def test_severity_override_from_the_policy() -> None:
    spec = {"isr": Fn(8, calls("vla")), "vla": Fn(16, dynamic=True)}
    _, found = _findings(spec, severity={"dynamic-stack": "error"})
    assert [f.severity for f in found] == ["error"]
