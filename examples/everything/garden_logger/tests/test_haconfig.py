"""Reading configuration.yaml despite Home Assistant's own tags."""

from pathlib import Path

import pytest

from garden_logger.haconfig import (
    Entry,
    HomeAssistantConfigError,
    top_level,
)

CONFIGURATION = """\
# Loads default set of integrations. Do not remove.
default_config:

homeassistant:
  name: Home
  latitude: !secret latitude

http: !include http.yaml
automation: !include_dir_merge_list automations/
logger: 'warning'  # quoted
"api_password": "x # not a comment"
frontend:
  themes: !include_dir_merge_named themes
---
"""


def test_top_level_entries_with_tags_kept_as_text(tmp_path: Path) -> None:
    path = tmp_path / "configuration.yaml"
    path.write_text(CONFIGURATION)
    entries = top_level(path)
    assert list(entries) == [
        "default_config", "homeassistant", "http", "automation", "logger", "api_password",
        "frontend",
    ]  # fmt: skip
    assert entries["default_config"] == Entry("default_config", None)
    assert entries["homeassistant"] == Entry("homeassistant", None)
    assert entries["http"] == Entry("http", "http.yaml", "!include")
    assert entries["automation"].tag == "!include_dir_merge_list"
    assert entries["logger"] == Entry("logger", "warning")
    assert entries["api_password"].value == "x # not a comment"


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(HomeAssistantConfigError, match="cannot read"):
        top_level(tmp_path / "configuration.yaml")
