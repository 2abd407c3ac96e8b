"""What the Supervisor and frenck's add-on linter accept in an add-on's config.yaml.

Encoded from upstream sources (facts, not code), read 2026-08:
- home-assistant/supervisor supervisor/apps/validate.py: _SCHEMA_APP_CONFIG (key types),
  _migrate_app_config and _warn_app_config (warnings), RE_VOLUME;
  supervisor/apps/options.py: RE_SCHEMA_ELEMENT; supervisor/apps/const.py: RE_SLUG, MappingType;
  supervisor/const.py: ARCH_ALL_COMPAT, ARCH_DEPRECATED; supervisor/validate.py: docker_image.
- frenck/action-addon-linter src/config.schema.json (additionalProperties false, defaults) and
  src/lint.py (a key set to its default is an error; cold backups with hooks; watchdog; `webui`
  or `ingress_port: 0` beside `ingress`), at v2.21.0 (f995494fd84fae6310d23617e66d0e37de4f14eb).
- The security rating: supervisor/apps/utils.py rating_security, with the properties it reads in
  supervisor/apps/model.py (apparmor, signed) and supervisor/docker/const.py (Capabilities).
  Ingress keys re-read 2026-11 at supervisor 090ef31ec024952c2469ed5a7c9f3ce8c1a5499e.
The Supervisor silently drops unknown keys and rejects the whole add-on when a known key has the
wrong type; the linter fails on both. `problems()` lists what would fail either, `warnings()` what
the Supervisor would log.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlparse

RE_SLUG = re.compile(r"^[-_.A-Za-z0-9]+$")
ARCH_SUPPORTED = {"aarch64", "amd64"}
ARCH_DEPRECATED = {"armhf", "armv7", "i386"}
# Map types every Supervisor from late 2025 on and linter v2.21 accept.
MAP_TYPES = {
    "data",
    "config",
    "homeassistant_config",
    "addon_config",
    "all_addon_configs",
    "addons",
    "ssl",
    "share",
    "media",
    "backup",
}
# Added in Supervisor 2026.07: older Supervisors and linter v2.21 reject them.
MAP_TYPES_2026_07 = {"app_config", "all_app_configs", "local_apps"}
# Names the Supervisor 2026.07+ accepts but logs as legacy.
MAP_TYPES_LEGACY = {"addon_config", "all_addon_configs", "addons"}
MAP_CONTAINER_PATHS = {
    "homeassistant_config": "/homeassistant",
    "addon_config": "/config",
    "share": "/share",
    "ssl": "/ssl",
    "media": "/media",
    "backup": "/backup",
}

# Keys with their linter default (a key set to it is an error) or None when it has none.
KNOWN_KEYS: dict[str, Any] = {
    "name": None, "version": None, "slug": None, "description": None, "arch": None,
    "machine": None, "url": None, "startup": "application", "boot": "auto", "init": True,
    "advanced": False, "stage": "stable", "ports": None, "ports_description": None,
    "watchdog": None, "webui": None, "ingress": False, "ingress_port": 8099,
    "ingress_entry": None, "ingress_stream": False, "panel_icon": "mdi:puzzle",
    "panel_title": None, "panel_admin": True, "homeassistant": None, "host_network": False,
    "host_pid": False, "host_ipc": False, "host_uts": False, "host_dbus": False,
    "devices": None, "udev": False, "tmpfs": False, "map": None, "environment": None,
    "privileged": None, "apparmor": True, "full_access": False, "audio": False,
    "video": False, "gpio": False, "usb": False, "uart": False, "devicetree": False,
    "kernel_modules": False, "realtime": False, "hassio_api": False, "hassio_role": "default",
    "homeassistant_api": False, "stdin": False, "legacy": False, "docker_api": False,
    "auth_api": False, "services": None, "discovery": None, "backup_exclude": None,
    "backup_pre": None, "backup_post": None, "backup": "hot", "options": {}, "schema": {},
    "image": None, "timeout": 10, "ulimits": {}, "breaking_versions": None, "journald": False,
}  # fmt: skip
BOOL_KEYS = {key for key, default in KNOWN_KEYS.items() if isinstance(default, bool)}
# Keys whose value the Supervisor takes as any string (vol.Optional(...): str) and the linter as
# {"type": "string"}.
STRING_KEYS = {"ingress_entry", "panel_icon", "panel_title"}
# The Supervisor's webui: a URL template with the container port, http(s) or [PROTO:option].
_WEBUI = re.compile(r"^(?:https?|\[PROTO:\w+\]):\/\/\[HOST\]:\[PORT:\d+\].*$")

_NUMBER = r"-?\d*\.?\d+"
_ELEMENT = re.compile(
    r"(?:bool|email|url|port"
    r"|device(?:\(subsystem=[a-z]+\))?"
    rf"|(?:str|password)(?:\(\d*,\d*\))?"
    r"|int(?:\((?:-?\d+)?,(?:-?\d+)?\))?"
    rf"|float(?:\((?:{_NUMBER})?,(?:{_NUMBER})?\))?"
    r"|match\(.*\)|list\(.+\))\??"
)
# docker_image: registry/name without a tag, lowercase (supervisor/validate.py).
_IMAGE = re.compile(r"^(?:[a-z0-9.\-:{}]+/)*?[a-z0-9_.\-{}]+/[a-z0-9_.\-{}]+$")


def schema_element_ok(element: str) -> bool:
    """Tell whether a schema string is one the Supervisor accepts."""
    return _ELEMENT.fullmatch(element) is not None


def problems(config: Any) -> list[str]:
    """What makes the Supervisor reject, or the linter fail, this config."""
    if not isinstance(config, dict):
        return ["config.yaml is not a mapping"]
    found: list[str] = []
    for key in ("name", "version", "slug", "description"):
        if not isinstance(config.get(key), str) or not config.get(key):
            found.append(f"'{key}' must be a non-empty string")
    if isinstance(config.get("slug"), str) and not RE_SLUG.match(config["slug"]):
        found.append(f"slug {config['slug']!r} does not match {RE_SLUG.pattern}")
    arch = config.get("arch")
    if not isinstance(arch, list) or not arch:
        found.append("'arch' must be a non-empty list")
    else:
        found += [f"unknown arch {a!r}" for a in arch if a not in ARCH_SUPPORTED | ARCH_DEPRECATED]
    for key in sorted(set(config) - set(KNOWN_KEYS)):
        found.append(f"unknown key {key!r} (the Supervisor drops it, the linter rejects it)")
    for key, default in KNOWN_KEYS.items():
        if default is not None and key in config and config[key] == default:
            found.append(f"{key!r} is set to its default {default!r} (the linter rejects that)")
    found += [f"{key!r} must be true or false" for key in BOOL_KEYS & set(config)
              if not isinstance(config[key], bool)]  # fmt: skip
    if "url" in config:
        url = urlparse(str(config["url"]))
        if url.scheme not in ("http", "https") or not url.netloc:
            found.append(f"url {config['url']!r} is not an http(s) URL")
    if "image" in config and not _IMAGE.match(str(config["image"])):
        found.append(f"image {config['image']!r} must be lowercase registry/name without a tag")
    found += _backup_problems(config)
    found += _ingress_problems(config)
    found += _map_problems(config.get("map", []))
    found += _options_problems(config.get("options", {}), config.get("schema", {}))
    if "timeout" in config and not (
        isinstance(config["timeout"], int) and 10 <= config["timeout"] <= 300
    ):
        found.append("'timeout' must be a whole number from 10 to 300")
    if "watchdog" in config:
        found.append("'watchdog' is obsolete: the linter requires a Docker HEALTHCHECK instead")
    return found


def _backup_problems(config: dict[str, Any]) -> list[str]:
    found = []
    if config.get("backup", "hot") not in ("hot", "cold"):
        found.append(f"backup {config['backup']!r} must be hot or cold (it is a mode, not a mount)")
    for key in ("backup_pre", "backup_post"):
        if key in config and not isinstance(config[key], str):
            found.append(f"{key!r} must be a command string")
        if key in config and config.get("backup") == "cold":
            found.append(f"{key!r} is not valid with cold backups")
    exclude = config.get("backup_exclude", [])
    if not isinstance(exclude, list) or not all(isinstance(p, str) for p in exclude):
        found.append("'backup_exclude' must be a list of strings")
    elif any(p.startswith("/") for p in exclude):
        found.append(
            "absolute backup_exclude patterns never match (PurePath.match is right-anchored)"
        )
    return found


def _ingress_problems(config: dict[str, Any]) -> list[str]:
    """Ingress and its panel: validate.py's _SCHEMA_APP_CONFIG (ingress_port a network port 1 to
    65535 or 0 for a dynamic one; the panel keys strings) and lint.py's checks beside ingress."""
    found = [f"{key!r} must be a string" for key in sorted(STRING_KEYS & set(config))
             if not isinstance(config[key], str)]  # fmt: skip
    if "webui" in config and not _WEBUI.match(str(config["webui"])):
        found.append(f"webui {config['webui']!r} must be like http://[HOST]:[PORT:8080]/")
    if "ingress_port" in config:
        port = config["ingress_port"]
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            found.append("'ingress_port' must be a port number from 1 to 65535, or 0")
    if config.get("ingress") is True:
        if "webui" in config:
            found.append("'webui' beside ingress (the linter rejects it: ingress replaces it)")
        if config.get("ingress_port") == 0 and not config.get("host_network", False):
            found.append("'ingress_port: 0' without host_network (the linter rejects it)")
    return found


def _map_problems(entries: Any) -> list[str]:
    if not isinstance(entries, list):
        return ["'map' must be a list"]
    found = []
    kinds = {type(entry) for entry in entries}
    if len(kinds) > 1:
        found.append("'map' mixes strings and dicts (the linter accepts one form only)")
    types = []
    for entry in entries:
        if not isinstance(entry, dict):
            found.append(f"map entry {entry!r} is not a dict: use {{type: ..., read_only: ...}}")
            continue
        extra = set(entry) - {"type", "read_only", "path"}
        if extra:
            found.append(f"map entry {entry!r} has unknown keys {sorted(extra)}")
        kind = entry.get("type")
        if kind in MAP_TYPES_2026_07:
            found.append(
                f"map type {kind!r} needs Supervisor 2026.07+ and a newer linter than v2.21"
            )
        elif kind not in MAP_TYPES:
            found.append(f"unknown map type {kind!r}")
        if "read_only" in entry and not isinstance(entry["read_only"], bool):
            found.append(f"map entry {entry!r}: read_only must be true or false")
        types.append(kind)
    if len(types) != len(set(types)):
        found.append("a map type is listed twice")
    if "config" in types and {"addon_config", "homeassistant_config"} & set(types):
        found.append("map type 'config' disables addon_config and homeassistant_config")
    return found


def _options_problems(options: Any, schema: Any) -> list[str]:
    if not isinstance(options, dict):
        return ["'options' must be a mapping"]
    if schema is False:
        return []
    if not isinstance(schema, dict):
        return ["'schema' must be a mapping or false"]
    found = []
    for key, element in schema.items():
        if not isinstance(element, str) or not schema_element_ok(element):
            found.append(f"schema of {key!r} is not a Supervisor schema element: {element!r}")
    found += [f"option {key!r} has no schema entry" for key in options if key not in schema]
    return found


def warnings(config: dict[str, Any]) -> list[str]:
    """What the Supervisor would log about a config it accepts."""
    found = [f"deprecated arch {a!r}" for a in config.get("arch", []) if a in ARCH_DEPRECATED]
    for entry in config.get("map", []):
        kind = entry.get("type") if isinstance(entry, dict) else str(entry).split(":")[0]
        if kind in MAP_TYPES_LEGACY:
            found.append(f"legacy map type {kind!r} (Supervisor 2026.07+)")
    if config.get("backup") == "cold" and ("backup_pre" in config or "backup_post" in config):
        found.append("pre/post commands with cold backups are ignored")
    for key in ("advanced", "codenotary"):
        if key in config:
            found.append(f"{key!r} is deprecated and ignored")
    return found


def translation_problems(config: dict[str, Any], translations: Any) -> list[str]:
    """Translations must name every option of the schema and nothing else."""
    schema = config.get("schema") or {}
    section = (
        (translations or {}).get("configuration", {}) if isinstance(translations, dict) else {}
    )
    found = [f"option {key!r} has no translation" for key in schema if key not in section]
    found += [f"translation {key!r} has no option" for key in section if key not in schema]
    found += [f"translation {key!r} has no name" for key, value in section.items()
              if not isinstance(value, dict) or not value.get("name")]  # fmt: skip
    return found


# supervisor/apps/utils.py rating_security: the capabilities that cost a point.
RISKY_CAPABILITIES = {
    "BPF", "CHECKPOINT_RESTORE", "DAC_READ_SEARCH", "NET_ADMIN", "NET_RAW", "PERFMON",
    "SYS_ADMIN", "SYS_MODULE", "SYS_PTRACE", "SYS_RAWIO",
}  # fmt: skip
RATING_MIN, RATING_MAX = 1, 8


def rating_security(config: dict[str, Any], *, apparmor_profile: bool) -> int:
    """The security rating (1 to 8) the Supervisor shows for an add-on with this config.yaml,
    with or without an apparmor.txt beside it, before it is signed (model.py `signed` is always
    False today). As supervisor/apps/utils.py rating_security counts, from 5: AppArmor off -1, an
    own profile +1 (model.py `apparmor`: the `apparmor` key on, and the profile the Supervisor
    loaded from apparmor.txt at install); ingress +2, else auth_api +1; a risky capability or
    kernel_modules -1; hassio_role manager -1, admin -2; host_network -1; host_pid -2; host_uts
    with SYS_ADMIN -1; docker_api or full_access: 1 whatever the rest. Keys left out take the
    Supervisor's defaults (KNOWN_KEYS)."""

    def value(key: str) -> Any:
        return config.get(key, KNOWN_KEYS[key])

    rating = 5
    if not value("apparmor"):
        rating -= 1
    elif apparmor_profile:
        rating += 1
    if value("ingress"):
        rating += 2
    elif value("auth_api"):
        rating += 1
    privileged = set(config.get("privileged", []))
    if privileged & RISKY_CAPABILITIES or value("kernel_modules"):
        rating -= 1
    rating -= {"manager": 1, "admin": 2}.get(value("hassio_role"), 0)
    if value("host_network"):
        rating -= 1
    if value("host_pid"):
        rating -= 2
    if value("host_uts") and "SYS_ADMIN" in privileged:
        rating -= 1
    if value("docker_api") or value("full_access"):
        rating = RATING_MIN
    return max(min(RATING_MAX, rating), RATING_MIN)
