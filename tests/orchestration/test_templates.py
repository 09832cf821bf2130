"""Notification and parameter templates: what a missing value renders as, and what is an error."""

from __future__ import annotations

import pytest

from jupyter_flows.orchestration.templates import check_templates, fill_parameters, render


def test_a_missing_attribute_of_a_missing_value_is_empty() -> None:
    # the default notification body names flow_run.state.name; a custom event has no flow run
    text = render("run {{ flow_run.name }} is {{ flow_run.state.name }}.", {"flow_run": {}})
    assert text == "run  is ."


def test_values_that_exist_are_rendered() -> None:
    context = {"flow_run": {"name": "nightly", "state": {"name": "Failed"}}}
    assert render("{{ flow_run.name }}: {{ flow_run.state.name }}", context) == "nightly: Failed"


def test_strict_rendering_names_what_is_missing() -> None:
    with pytest.raises(ValueError, match="state"):
        render("{{ flow_run.state.name }}", {"flow_run": {}}, strict=True)


def test_parameters_take_event_values_as_they_are() -> None:
    filled = fill_parameters({"n": "{{ event.n }}", "label": "batch {{ event.n }}"}, {"n": 7})
    assert filled == {"n": 7, "label": "batch 7"}
    with pytest.raises(ValueError, match="'n'"):
        fill_parameters({"n": "{{ event.n }}"}, {})


def test_a_broken_template_is_an_error_naming_its_field() -> None:
    with pytest.raises(ValueError, match=r"webhook\.payload\.text: template error"):
        check_templates({"text": "{{ oops"}, "webhook.payload")
