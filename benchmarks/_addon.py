"""Render the all-features add-on for the benchmarks (a git-free copy of the template)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import copier

REPO = Path(__file__).resolve().parents[1]
SLUG = "bench_demo"
ALL_FEATURES = {
    "name": "Bench Demo",
    "mounts": ["addon_config", "homeassistant_config", "share", "ssl", "media", "backup"],
    "persistence": ["json_config", "sqlite", "state"],
    "layout": "app",
}


def template_copy(destination: Path) -> Path:
    destination.mkdir(parents=True, exist_ok=True)
    for part in ("copier.yml", "template", "includes"):  # what copier reads
        source = REPO / part
        if source.is_dir():
            shutil.copytree(source, destination / part)
        else:
            shutil.copy2(source, destination / part)
    return destination


def render_addon(answers: dict[str, object] | None = None) -> Path:
    work = Path(tempfile.mkdtemp(prefix="bench-"))
    template = template_copy(work / "template")
    copier.run_copy(
        str(template),
        work / "addon",
        data={**(answers or ALL_FEATURES), "slug": SLUG},
        defaults=True,
        quiet=True,
    )
    return work / "addon"


def machine() -> str:
    import os
    import platform

    system = f"{platform.system()} {platform.release()}"
    return (
        f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, {system}"
    )
