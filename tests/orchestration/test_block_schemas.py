"""Masking a block document's secret fields (Prefect's paths) and keeping masked values on
overwrite; the name rules."""

from __future__ import annotations

from typing import Any

import pytest

from jupyter_flows.orchestration.block_schemas import (
    MASK,
    check_name,
    check_secret_fields,
    check_slug,
    mask,
    unmask,
)

DATA: dict[str, Any] = {
    "host": "h",
    "password": "pw",
    "token": None,
    "value": {"user": "u", "password": "p"},
    "creds": {"key": "k", "id": "i"},
    "env": {"A": "a", "deep": {"B": "b", "list": ["x", 1]}, "none": None},
    "servers": [{"name": "s1", "secret": "x1"}, {"name": "s2", "secret": "x2"}],
}
FIELDS = ["creds.key", "env.*", "password", "servers.secret", "token", "value", "missing.x"]


def test_mask_follows_prefects_paths() -> None:
    assert mask(DATA, FIELDS) == {
        "host": "h",
        "password": MASK,
        "token": None,  # nothing to hide
        "value": MASK,  # a whole (JSON) secret value
        "creds": {"key": MASK, "id": "i"},
        "env": {"A": MASK, "deep": {"B": MASK, "list": [MASK, MASK]}, "none": None},
        "servers": [{"name": "s1", "secret": MASK}, {"name": "s2", "secret": MASK}],
    }
    assert DATA["password"] == "pw"  # the input is not changed


def test_unmask_keeps_stored_values_sent_masked() -> None:
    edited = mask(DATA, FIELDS)
    edited["host"] = "h2"
    edited["env"]["A"] = "new-a"
    restored = unmask(edited, DATA, FIELDS)
    assert restored["host"] == "h2" and restored["password"] == "pw"
    assert restored["value"] == {"user": "u", "password": "p"}
    assert restored["creds"] == {"key": "k", "id": "i"}
    assert restored["env"] == {"A": "new-a", "deep": {"B": "b", "list": ["x", 1]}, "none": None}
    assert unmask({"password": MASK}, {}, ["password"]) == {"password": MASK}  # nothing stored


@pytest.mark.parametrize("bad", ["", "A", "a_b", "a b", "a/b", "é", "x" * 256])
def test_names_and_slugs_are_lowercase_letters_digits_dashes(bad: str) -> None:
    with pytest.raises(ValueError, match="^name: "):
        check_name(bad)
    with pytest.raises(ValueError, match="^block_type_slug: "):
        check_slug(bad)
    assert check_name("my-block-2") == "my-block-2"


def test_secret_field_paths() -> None:
    assert check_secret_fields(["b", "a.*", "b"]) == ["a.*", "b"]
    for bad in (["a..b"], ["*"], ["a.*.b"], "a", [1]):
        with pytest.raises(ValueError, match="^secret_fields: "):
            check_secret_fields(bad)
