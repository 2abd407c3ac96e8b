"""The rule set that stands in for the Supervisor and the linter must catch what they reject."""

from __future__ import annotations

from typing import Any

import pytest

import supervisor_rules as rules

GOOD: dict[str, Any] = {
    "name": "Demo",
    "version": "0.1.0",
    "slug": "demo",
    "description": "A demo.",
    "arch": ["aarch64", "amd64"],
    "url": "https://github.com/example/demo",
    "image": "ghcr.io/example/demo",
    "init": False,
    "map": [{"type": "share", "read_only": False}, {"type": "ssl", "read_only": True}],
    "options": {"log_level": "info"},
    "schema": {"log_level": "list(debug|info)"},
}


def test_a_good_config_passes() -> None:
    assert rules.problems(GOOD) == []
    assert rules.warnings(GOOD) == []


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        # The seed's claims (ERRATA 1, 2): mounts as top-level flags, backup as a mount.
        ({"homeassistant_config": True}, "unknown key 'homeassistant_config'"),
        ({"ssl": True}, "unknown key 'ssl'"),
        ({"backup": True}, "must be hot or cold"),
        ({"backup": "hot"}, "'backup' is set to its default"),
        ({"init": True}, "'init' is set to its default"),
        ({"timeout": 10}, "'timeout' is set to its default"),
        ({"timeout": 301}, "from 10 to 300"),
        ({"startup": "application"}, "set to its default"),
        ({"version": 1.1}, "'version' must be a non-empty string"),
        ({"slug": "bad slug"}, "does not match"),
        ({"arch": ["x86"]}, "unknown arch 'x86'"),
        ({"arch": []}, "non-empty list"),
        ({"image": "ghcr.io/Example/Demo"}, "lowercase"),
        ({"image": "ghcr.io/example/demo:1.0"}, "without a tag"),
        ({"url": "github.com/x"}, "not an http(s) URL"),
        ({"map": [{"type": "app_config"}]}, "needs Supervisor 2026.07+"),
        ({"map": [{"type": "homeassistant"}]}, "unknown map type"),
        ({"map": ["share:rw", {"type": "ssl"}]}, "mixes strings and dicts"),
        ({"map": [{"type": "share", "read_only": "no"}]}, "read_only must be true or false"),
        ({"map": [{"type": "share", "mode": "rw"}]}, "unknown keys ['mode']"),
        ({"map": [{"type": "share"}, {"type": "share"}]}, "listed twice"),
        ({"map": [{"type": "config"}, {"type": "addon_config"}]}, "disables addon_config"),
        ({"schema": {"log_level": "str=info"}}, "not a Supervisor schema element"),
        ({"schema": {"log_level": "integer"}}, "not a Supervisor schema element"),
        ({"options": {"log_level": "info", "extra": 1}}, "option 'extra' has no schema entry"),
        ({"backup": "cold", "backup_pre": "x"}, "not valid with cold backups"),
        ({"backup_exclude": ["/data/cache"]}, "absolute backup_exclude patterns never match"),
        ({"watchdog": "tcp://[HOST]:[PORT:80]"}, "HEALTHCHECK"),
        ({"ingress": False}, "set to its default"),
        # Ingress and its panel (issue 14): the keys' defaults, types, and the linter's checks.
        ({"ingress": True, "ingress_port": 8099}, "'ingress_port' is set to its default"),
        ({"ingress": True, "panel_icon": "mdi:puzzle"}, "'panel_icon' is set to its default"),
        ({"ingress": True, "panel_admin": True}, "'panel_admin' is set to its default"),
        ({"ingress": True, "ingress_stream": False}, "'ingress_stream' is set to its default"),
        ({"ingress": "yes"}, "'ingress' must be true or false"),
        ({"ingress": True, "panel_title": 5}, "'panel_title' must be a string"),
        ({"ingress": True, "panel_icon": None}, "'panel_icon' must be a string"),
        ({"ingress": True, "ingress_port": 65536}, "from 1 to 65535, or 0"),
        ({"ingress": True, "ingress_port": "8100"}, "from 1 to 65535, or 0"),
        ({"ingress": True, "ingress_port": 0}, "'ingress_port: 0' without host_network"),
        ({"ingress": True, "webui": "http://[HOST]:[PORT:8099]/"}, "'webui' beside ingress"),
        ({"webui": "http://localhost:8099/"}, "must be like http://[HOST]:[PORT:8080]/"),
    ],
)
def test_each_rejection_is_caught(change: dict[str, Any], problem: str) -> None:
    found = rules.problems(GOOD | change)
    assert any(problem in line for line in found), found


@pytest.mark.parametrize(
    "change",
    [
        {"ingress": True, "panel_icon": "mdi:database-check", "panel_title": "Demo"},
        {"ingress": True, "ingress_port": 8100, "panel_admin": False, "ingress_entry": "ui/"},
        {"ingress": True, "ingress_port": 0, "host_network": True},
        {"webui": "http://[HOST]:[PORT:8080]/status"},
        {"webui": "[PROTO:ssl]://[HOST]:[PORT:443]"},
    ],
)
def test_ingress_configs_the_supervisor_and_the_linter_accept(change: dict[str, Any]) -> None:
    assert rules.problems(GOOD | change) == []


# supervisor/apps/utils.py rating_security, case by case (GOOD alone: 5, +1 with a profile).
@pytest.mark.parametrize(
    ("change", "profile", "rating"),
    [
        ({}, False, 5),
        ({}, True, 6),
        ({"apparmor": False}, True, 4),
        ({"ingress": True}, True, 8),
        ({"ingress": True}, False, 7),
        ({"auth_api": True}, True, 7),
        ({"ingress": True, "auth_api": True}, True, 8),
        ({"privileged": ["NET_ADMIN"]}, True, 5),
        ({"privileged": ["SYS_TIME", "IPC_LOCK"]}, True, 6),
        ({"kernel_modules": True}, True, 5),
        ({"hassio_role": "manager"}, True, 5),
        ({"hassio_role": "admin"}, True, 4),
        ({"hassio_role": "backup"}, True, 6),
        ({"host_network": True}, True, 5),
        ({"host_pid": True}, True, 4),
        ({"host_uts": True}, True, 6),
        ({"host_uts": True, "privileged": ["SYS_ADMIN"]}, True, 4),
        ({"ingress": True, "docker_api": True}, True, 1),
        ({"ingress": True, "full_access": True}, True, 1),
        ({"apparmor": False, "host_pid": True, "hassio_role": "admin", "host_network": True},
         False, 1),
    ],
)  # fmt: skip
def test_security_rating(change: dict[str, Any], profile: bool, rating: int) -> None:
    assert rules.rating_security(GOOD | change, apparmor_profile=profile) == rating


@pytest.mark.parametrize(
    "element",
    ["bool", "int", "int(-5,5)", "float(0.5,)", "str?", "str(1,)", "password(8,64)", "port",
     "email", "url", "match(^a+$)", "list(a|b|c)", "device(subsystem=tty)", "float(-1.5,2)"],
)  # fmt: skip
def test_schema_elements_the_supervisor_accepts(element: str) -> None:
    assert rules.schema_element_ok(element)


@pytest.mark.parametrize("element", ["string", "int(a,b)", "list()", "str=x", "bool??", "Int"])
def test_schema_elements_the_supervisor_rejects(element: str) -> None:
    assert not rules.schema_element_ok(element)


def test_warnings() -> None:
    config = GOOD | {"arch": ["armv7", "amd64"], "map": [{"type": "addon_config"}]}
    assert rules.warnings(config) == [
        "deprecated arch 'armv7'",
        "legacy map type 'addon_config' (Supervisor 2026.07+)",
    ]


def test_translations_must_match_the_schema() -> None:
    assert rules.translation_problems(GOOD, {"configuration": {"log_level": {"name": "L"}}}) == []
    assert rules.translation_problems(GOOD, {"configuration": {}}) == [
        "option 'log_level' has no translation"
    ]
    assert rules.translation_problems(
        GOOD, {"configuration": {"log_level": {"description": "x"}, "other": {"name": "O"}}}
    ) == ["translation 'other' has no option", "translation 'log_level' has no name"]
