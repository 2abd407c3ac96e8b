"""Awkward text in the free-text answers renders back exactly, or is refused with a message."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import copy
from rendered import load_yaml

pytestmark = pytest.mark.xdist_group("answer-text")

TRICKY = [
    '"', "'", ":", ": ", "#", " #", "{{", "}}", "{%", "%}", "\n", "\r", "\t", "\\", "$", "${X}",
    "`", "*", "<", ">", "&", "|", "- ", "!secret", "🎉", "👩\u200d👩\u200d👧", "\u202e", "עברית",
    "العربية", "\u2028", "\x85", "\x00", "\x7f", "ß", "İ", " ",
]  # fmt: skip
TEXT = st.lists(st.one_of(st.sampled_from(TRICKY), st.text(max_size=3)), max_size=8).map("".join)
EXAMPLES = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def render_or_reason(template: Path, destination: Path, **answers: Any) -> Path | str:
    try:
        copy(template, destination, **{"slug": "text_demo", **answers})
    except ValueError as error:
        return str(error)
    return destination


@EXAMPLES
@given(name=TEXT)
def test_name(template_snapshot: Path, tmp_path_factory: pytest.TempPathFactory, name: str) -> None:
    # With the web UI, whose sidebar label (panel_title) is the name too.
    result = render_or_reason(
        template_snapshot, tmp_path_factory.mktemp("n"), name=name, web_ui="ingress"
    )
    if isinstance(result, str):
        assert "Validation error for question 'name'" in result
        return
    config = load_yaml(result / "text_demo" / "config.yaml")
    assert config["name"] == config["panel_title"] == name
    assert load_yaml(result / "repository.yaml")["name"] == f"{name} add-on repository"
    docs = (result / "text_demo" / "DOCS.md").read_text(encoding="utf-8")
    assert docs.splitlines()[0] == f"# {name}"


@EXAMPLES
@given(description=TEXT)
def test_description(
    template_snapshot: Path, tmp_path_factory: pytest.TempPathFactory, description: str
) -> None:
    result = render_or_reason(
        template_snapshot, tmp_path_factory.mktemp("d"), name="Text Demo", description=description
    )
    if isinstance(result, str):
        assert "Validation error for question 'description'" in result
        return
    assert load_yaml(result / "text_demo" / "config.yaml")["description"] == description
    docs = (result / "text_demo" / "DOCS.md").read_text(encoding="utf-8")
    assert docs.splitlines()[2] == description


@EXAMPLES
@given(who=TEXT)
def test_maintainer(
    template_snapshot: Path, tmp_path_factory: pytest.TempPathFactory, who: str
) -> None:
    maintainer = f"{who} <ada@example.com>"
    result = render_or_reason(
        template_snapshot, tmp_path_factory.mktemp("m"), name="Text Demo", maintainer=maintainer
    )
    if isinstance(result, str):
        assert "Validation error for question 'maintainer'" in result
        return
    assert load_yaml(result / "repository.yaml")["maintainer"] == maintainer
    # The copyright holder is the name, as typed (the default license is MIT).
    assert (result / "LICENSE").read_text(encoding="utf-8").split("\n")[2] == f"Copyright (c) {who}"
