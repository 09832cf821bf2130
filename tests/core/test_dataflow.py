"""Dataflow between ``%%task`` cells: name analysis of one cell, and the graph of a notebook."""

from __future__ import annotations

from typing import Any

import pytest

from jupyter_flows.core.dataflow import (
    CellNames,
    DataflowGraph,
    TaskCell,
    analyze_cell,
    build_dataflow,
    changed_tasks,
)
from jupyter_flows.exceptions import CycleError, FlowDefinitionError


def names(source: str) -> tuple[set[str], set[str]]:
    """``(reads, defines)`` of one cell, as plain sets."""
    cell = analyze_cell(source)
    return set(cell.reads), set(cell.defines)


def flow(*cells: tuple[str, str], **kwargs: Any) -> DataflowGraph:
    return build_dataflow([TaskCell(name, source) for name, source in cells], **kwargs)


def edges(dataflow: DataflowGraph) -> dict[tuple[str, str], list[str]]:
    return {(u, v): data["names"] for u, v, data in dataflow.graph.edges(data=True)}


class TestAnalyzeCell:
    def test_assignment_reads_then_defines(self):
        assert names("y = f(x)\nz = y + 1") == ({"f", "x"}, {"y", "z"})

    def test_read_after_binding_in_the_same_cell_is_no_read(self):
        assert names("x = 1\nprint(x)") == (set(), {"x"})

    @pytest.mark.parametrize(
        ("source", "defines"),
        [
            ("import numpy as np", {"np"}),
            ("from a import b as c", {"c"}),
            ("from a import b, d", {"b", "d"}),
            ("import os.path", {"os"}),
            ("import os.path as osp", {"osp"}),
            ("from m import *", set()),
        ],
    )
    def test_imports_define(self, source, defines):
        assert names(source) == (set(), defines)

    def test_augmented_assignment_reads_and_defines(self):
        assert names("x += 1") == ({"x"}, {"x"})
        assert names("x = f(x)") == ({"f", "x"}, {"x"})

    def test_del_reads_and_deletes(self):
        cell = analyze_cell("del x")
        assert (cell.reads, cell.defines, cell.deletes) == ({"x"}, set(), {"x"})

    def test_del_after_own_binding_reads_nothing(self):
        cell = analyze_cell("tmp = 1\ndel tmp")
        assert (cell.reads, cell.defines, cell.deletes) == (set(), set(), {"tmp"})

    def test_rebinding_after_del_defines(self):
        cell = analyze_cell("del x\nx = 2")
        assert (cell.reads, cell.defines, cell.deletes) == ({"x"}, {"x"}, set())

    def test_comprehension_variables_are_local(self):
        assert names("ys = [x * k for x in xs if x > t]") == ({"xs", "k", "t"}, {"ys"})
        assert names("d = {k: v for k, v in items}") == ({"items"}, {"d"})
        assert names("g = (a + b for a in r1 for b in r2(a))") == ({"r1", "r2"}, {"g"})

    def test_comprehension_variable_does_not_leak(self):
        assert names("ys = [x for x in xs]\nprint(x)") == ({"xs", "x"}, {"ys"})

    def test_walrus_in_comprehension_binds_at_module_level(self):
        assert names("ys = [y := f(v) for v in vs]\nz = y") == ({"f", "vs"}, {"ys", "y", "z"})

    def test_walrus_at_module_level(self):
        assert names("if (n := len(data)) > 3:\n    m = n") == ({"data"}, {"n", "m"})

    def test_names_read_only_in_function_bodies_are_reads(self):
        source = "def predict(a):\n    return model.predict(a, scale)\n"
        assert names(source) == ({"model", "scale"}, {"predict"})

    def test_function_locals_params_and_later_bound_names_are_no_reads(self):
        source = (
            "def f(a, *args, b, **kw):\n"
            "    total = 0\n"
            "    for i in range(a):\n"
            "        total += helper(i) + len(args) + b + len(kw)\n"
            "    return total\n"
            "def helper(z):\n"
            "    return z\n"
        )
        assert names(source) == (set(), {"f", "helper"})

    def test_local_assigned_anywhere_in_a_function_is_local(self):
        source = (
            "def f():\n"
            "    for i in range(3):\n"
            "        if i:\n"
            "            use(prev)\n"  # prev is local: bound later in the loop body
            "        prev = i\n"
        )
        assert names(source) == ({"use"}, {"f"})

    def test_nested_functions_see_enclosing_locals(self):
        source = (
            "def outer():\n"
            "    def inner():\n"
            "        nonlocal count\n"
            "        count += step + glob\n"
            "    count = 0\n"
            "    step = 1\n"
            "    return inner\n"
        )
        assert names(source) == ({"glob"}, {"outer"})

    def test_global_in_function_reads_and_defines(self):
        source = "def inc():\n    global counter\n    counter += 1\n"
        assert names(source) == ({"counter"}, {"inc", "counter"})

    def test_global_in_function_only_assigned_defines(self):
        source = "def setup():\n    global config\n    config = load()\n"
        assert names(source) == ({"load"}, {"setup", "config"})

    def test_lambda_parameters_are_local(self):
        assert names("g = lambda v, w=dflt: v * w * scale") == ({"dflt", "scale"}, {"g"})

    def test_class_body_names_are_not_module_defines(self):
        source = (
            "class Model(Base, metaclass=Meta):\n"
            "    k = 1\n"
            "    j = k + outer\n"
            "    def method(self):\n"
            "        return k\n"  # a method does not see class names: this k is global
        )
        assert names(source) == ({"Base", "Meta", "outer", "k"}, {"Model"})

    def test_comprehension_in_class_body_does_not_see_class_names(self):
        source = "class C:\n    n = 3\n    sq = [i * n for i in range(n)]\n"
        assert names(source) == ({"n"}, {"C"})

    def test_tuple_and_star_unpacking(self):
        assert names("a, *b = data\n(c, d), e = pair") == ({"data", "pair"}, set("abcde"))

    def test_for_and_with_targets(self):
        source = (
            "for i, row in rows:\n    acc = row\nwith open(p) as fh, ctx() as (u, w):\n    pass\n"
        )
        assert names(source) == ({"rows", "p", "ctx"}, {"i", "row", "acc", "fh", "u", "w"})

    def test_for_iterable_is_read_before_target_binds(self):
        assert names("for x in x:\n    pass") == ({"x"}, {"x"})

    def test_except_as_defines_but_is_unbound_after_the_handler(self):
        source = "try:\n    r = risky()\nexcept ValueError as err:\n    log(err)\nprint(err)\n"
        cell = analyze_cell(source)
        assert set(cell.reads) == {"risky", "log", "err"}  # the last ``err`` is not this one
        assert set(cell.defines) == {"r", "err"}
        assert {"ValueError", "print"} <= cell.builtin_reads

    def test_match_captures_define_and_class_patterns_read(self):
        source = (
            "match cmd:\n"
            "    case Point(x=px, y=0) as pt:\n"
            "        pass\n"
            "    case [first, *rest] if first > limit:\n"
            "        pass\n"
            "    case {'k': v, **others}:\n"
            "        pass\n"
            "    case Color.RED:\n"
            "        pass\n"
        )
        reads, defines = names(source)
        assert reads == {"cmd", "Point", "limit", "Color"}
        assert defines == {"px", "pt", "first", "rest", "v", "others"}

    def test_f_strings_read(self):
        assert names("s = f'{name!r} {value:{width}}'") == ({"name", "value", "width"}, {"s"})

    def test_attribute_and_subscript_assignment_reads_and_defines_the_base(self):
        # convention: a mutated object counts as (re)defined by the cell
        source = 'df["a"] = 1\nobj.attr.x = 2\nframe.loc[0, key] = 3\ndel cache["k"]\n'
        reads, defines = names(source)
        assert reads == {"df", "obj", "frame", "key", "cache"}
        assert defines == {"df", "obj", "frame", "cache"}

    def test_decorators_read(self):
        assert names("@register(opt)\ndef f():\n    pass\n") == ({"register", "opt"}, {"f"})
        assert names("@dataclass\nclass C:\n    pass\n") == ({"dataclass"}, {"C"})

    def test_defaults_and_annotations_are_read_at_def_time(self):
        source = "def f(a: Frame, b=default, *, c=kwdefault) -> Result:\n    pass\n"
        assert names(source) == ({"Frame", "default", "kwdefault", "Result"}, {"f"})

    def test_default_evaluated_before_a_later_binding(self):
        assert names("def f(b=limit):\n    pass\nlimit = 3") == ({"limit"}, {"f", "limit"})

    def test_annotation_without_value_binds_nothing(self):
        assert names("z: int\nw: Frame = make()") == ({"Frame", "make"}, {"w"})

    def test_builtins_are_kept_apart(self):
        cell = analyze_cell("n = len(data)\nprint(n)\ndisplay(n)")
        assert cell.reads == {"data"}
        assert cell.builtin_reads == {"len", "print", "display"}

    def test_rebound_builtin_is_a_define(self):
        cell = analyze_cell("list = [1]\nlist.append(2)")
        assert (cell.reads, cell.defines, cell.builtin_reads) == (set(), {"list"}, set())

    def test_magic_lines_are_ignored(self):
        source = (
            "%%task load --retries 2\n"
            "%matplotlib inline\n"
            "x = 1\n"
            "!ls -la (\n"
            "if x:\n"
            "    %time y = undefined_name\n"
            "mask = (x\n"
            "        != 0)\n"  # a continuation line, not a shell escape
            "rem = (x\n"
            "       % 2)\n"
            "s = '''\n"
            "!inside a string\n"
            "'''\n"
        )
        assert names(source) == (set(), {"x", "mask", "rem", "s"})

    def test_syntax_error_keeps_the_cell_line_number(self):
        with pytest.raises(SyntaxError) as info:
            analyze_cell("%%task t\nx = 1\ny = (\n")
        assert info.value.lineno == 3

    def test_top_level_await_parses(self):
        assert names("data = await fetch(url)") == ({"fetch", "url"}, {"data"})


class TestBuildDataflow:
    def test_edges_follow_reads_of_earlier_defines(self):
        dataflow = flow(
            ("load", "raw = read()\nconfig = {}"),
            ("clean", "df = fix(raw)"),
            ("report", "out = summarize(df, config)"),
        )
        assert edges(dataflow) == {
            ("load", "clean"): ["raw"],
            ("clean", "report"): ["df"],
            ("load", "report"): ["config"],
        }
        assert dataflow.order == ["load", "clean", "report"]
        assert dataflow.inputs == {
            "load": {"read"},
            "clean": {"fix"},
            "report": {"summarize"},
        }
        node = dataflow.graph.nodes["clean"]
        assert (node["index"], node["reads"], node["defines"]) == (1, ["fix", "raw"], ["df"])

    def test_edge_names_are_sorted(self):
        dataflow = flow(("a", "z = 1\nb = 2\nm = 3"), ("b", "print(z, m, b)"))
        assert edges(dataflow) == {("a", "b"): ["b", "m", "z"]}

    def test_reader_depends_on_the_last_earlier_definer(self):
        dataflow = flow(("a", "x = 1"), ("b", "x = 2"), ("c", "print(x)"))
        assert edges(dataflow) == {("b", "c"): ["x"]}

    def test_later_redefinition_is_no_back_edge(self):
        dataflow = flow(("a", "x = 1"), ("b", "print(x)"), ("c", "x = 3"))
        assert edges(dataflow) == {("a", "b"): ["x"]}

    def test_read_and_redefine_chains(self):
        dataflow = flow(("a", "x = 1"), ("b", "x += 1"), ("c", "x = f(x)"), ("d", "print(x)"))
        assert edges(dataflow) == {("a", "b"): ["x"], ("b", "c"): ["x"], ("c", "d"): ["x"]}

    def test_del_needs_the_name_and_leaves_it_without_definer(self):
        dataflow = flow(("a", "x = 1"), ("b", "del x"), ("c", "print(x)"))
        assert edges(dataflow) == {("a", "b"): ["x"]}
        assert dataflow.inputs["c"] == {"x"}

    def test_function_body_reads_make_edges(self):
        dataflow = flow(
            ("train", "model = fit()"),
            ("define", "def predict(a):\n    return model.predict(a)"),
            ("use", "y = predict(3)"),
        )
        assert edges(dataflow) == {("train", "define"): ["model"], ("define", "use"): ["predict"]}

    def test_global_in_function_defines_for_later_tasks(self):
        dataflow = flow(
            ("init", "counter = 0"),
            ("bump", "def inc():\n    global counter\n    counter += 1\ninc()"),
            ("show", "print(counter)"),
        )
        assert edges(dataflow) == {("init", "bump"): ["counter"], ("bump", "show"): ["counter"]}

    def test_mutation_orders_later_readers_after_the_mutator(self):
        dataflow = flow(("a", "df = load()"), ("b", "df['c'] = 1"), ("c", "print(df)"))
        assert edges(dataflow) == {("a", "b"): ["df"], ("b", "c"): ["df"]}

    def test_non_task_names_are_inputs_not_edges(self):
        dataflow = flow(("a", "y = x * 2"), ("b", "z = y + x"), non_task_defined={"x"})
        assert edges(dataflow) == {("a", "b"): ["y"]}
        assert dataflow.inputs == {"a": {"x"}, "b": {"x"}}

    def test_builtins_matter_only_when_rebound(self):
        dataflow = flow(("a", "n = len(v)"), ("b", "len = fake"), ("c", "m = len(w)"))
        assert edges(dataflow) == {("b", "c"): ["len"]}
        assert dataflow.inputs == {"a": {"v"}, "b": {"fake"}, "c": {"w"}}
        assert flow(("a", "print(1)"), non_task_defined={"print"}).inputs == {"a": {"print"}}

    def test_precomputed_names_are_used(self):
        cell = TaskCell("a", "ignored", names=CellNames(reads=frozenset({"q"})))
        assert build_dataflow([cell]).inputs == {"a": {"q"}}

    def test_extra_edges_are_added_and_marked(self):
        dataflow = flow(("a", "x = 1"), ("b", "print(x)"), ("c", "y = 2"), extra_edges=[("c", "b")])
        assert edges(dataflow) == {("a", "b"): ["x"], ("c", "b"): []}
        assert dataflow.graph.edges["c", "b"]["explicit"] is True
        assert dataflow.graph.edges["a", "b"]["explicit"] is False
        assert dataflow.order == ["a", "c", "b"]

    def test_extra_edge_cycle_raises(self):
        with pytest.raises(CycleError) as info:
            flow(("a", "x = 1"), ("b", "y = x"), extra_edges=[("b", "a")])
        assert info.value.cycle in (["a", "b", "a"], ["b", "a", "b"])

    def test_extra_edge_to_unknown_task_raises(self):
        with pytest.raises(FlowDefinitionError, match="nope"):
            flow(("a", "x = 1"), extra_edges=[("nope", "a")])

    def test_duplicate_task_names_raise(self):
        with pytest.raises(FlowDefinitionError, match="'a'"):
            flow(("a", "x = 1"), ("a", "y = 2"))

    def test_order_breaks_ties_by_cell_order(self):
        dataflow = flow(("z", "p = 1"), ("y", "q = 2"), ("x", "r = p + q"), ("w", "s = 1"))
        assert dataflow.order == ["z", "y", "x", "w"]


class TestChangedTasks:
    @pytest.fixture
    def dataflow(self) -> DataflowGraph:
        return flow(
            ("load", "raw = read()"),
            ("params", "k = 3"),
            ("clean", "df = fix(raw)"),
            ("fit", "model = train(df, k)"),
            ("report", "print(model)"),
            ("other", "z = 1"),
        )

    def test_changed_and_descendants_in_order(self, dataflow):
        assert changed_tasks(dataflow, {"clean"}) == ["clean", "fit", "report"]
        assert changed_tasks(dataflow, {"params", "load"}) == [
            "load",
            "params",
            "clean",
            "fit",
            "report",
        ]
        assert changed_tasks(dataflow, {"other"}) == ["other"]
        assert changed_tasks(dataflow, set()) == []

    def test_plain_digraph(self, dataflow):
        assert changed_tasks(dataflow.graph, {"fit"}) == ["fit", "report"]

    def test_unknown_task_raises(self, dataflow):
        with pytest.raises(FlowDefinitionError, match="ghost"):
            changed_tasks(dataflow, {"ghost"})
