"""The storage report of the `doctor` command, also the image's HEALTHCHECK.

It checks that every folder is there with the access config.yaml gives it (and, where it is
writable, that its disk is neither full nor out of inodes), that the options are valid and enough
disk space is free, that the JSON files parse (read with bounds: a hostile file must not hang the
check), that the data version is one this add-on starts with, and that the database (if any)
passes SQLite's integrity check at the schema version this add-on knows. A full disk is reported
as such, never as a damaged database. Each line starts with OK, WARN or FAIL; the exit status is 0
when nothing failed.
"""

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from . import database, diskspace, jsonfile, migrations, paths
from .health import Finding, Level
from .jsonfile import JsonFileError
from .migrations import MigrationError
from .options import OptionsError, load_options


@dataclass
class Report:
    """The lines of the report and how many checks failed."""

    lines: list[str] = field(default_factory=list)
    failures: int = 0

    def add(self, finding: Finding) -> None:
        level, text = finding
        self.lines.append(f"{level:<4} {text}")
        if level is Level.FAIL:
            self.failures += 1

    def ok(self, text: str) -> None:
        self.add((Level.OK, text))

    def warn(self, text: str) -> None:
        self.add((Level.WARN, text))

    def fail(self, text: str) -> None:
        self.add((Level.FAIL, text))


def run(*, quick: bool = False) -> int:
    """Print the report; return 0 when healthy, 1 otherwise."""
    report = check(quick=quick)
    print("\n".join(report.lines))
    print("healthy" if not report.failures else f"unhealthy: {report.failures} problem(s)")
    return 0 if not report.failures else 1


def check(*, quick: bool = False) -> Report:
    report = Report()
    check_mounts(report)
    check_options_and_space(report)
    check_json_files(report)
    check_data_version(report)
    report.add(database.check_health(quick=quick))
    return report


def check_mounts(report: Report) -> None:
    """Every folder is there, writable exactly where config.yaml says read-write."""
    for mount in paths.MOUNTS:
        state = probe(mount.path, try_write=mount.writable)
        if state == "missing":
            report.fail(f"{mount.path}: missing, but config.yaml maps it ({mount.map_type})")
        elif mount.writable and state != "writable":
            report.fail(f"{mount.path}: not writable, but config.yaml maps it read-write")
        elif mount.writable and (room := diskspace.room_problem(mount.path)):
            report.fail(f"{mount.path}: {room}")
        elif not mount.writable and state == "writable":
            report.warn(f"{mount.path}: writable, but config.yaml maps it read-only")
        else:
            report.ok(f"{mount.path}: {state}")


Access = Literal["missing", "writable", "read-only"]


def probe(folder: Path, *, try_write: bool) -> Access:
    """Return "missing", "writable" or "read-only".

    A folder that must be writable is tested by creating a file in it. A read-only one is only
    asked (access(2) reports a read-only mount), because an attempted write there would be logged
    as an AppArmor denial at every health check.
    """
    if not folder.is_dir():
        return "missing"
    if not try_write:
        return "writable" if os.access(folder, os.W_OK) else "read-only"
    try:
        descriptor, name = tempfile.mkstemp(dir=folder, prefix=".doctor-")
    except OSError as error:
        # Refused for lack of room, not of access: check_mounts then reports the full disk.
        return "writable" if error.errno in diskspace.NO_ROOM_ERRNOS else "read-only"
    os.close(descriptor)
    Path(name).unlink()
    return "writable"


def check_options_and_space(report: Report) -> None:
    try:
        options = load_options()
    except OptionsError as error:
        report.fail(f"options: {error}")
        return
    report.ok("options: valid")
    if not paths.DATA_DIR.is_dir() or diskspace.room_problem(paths.DATA_DIR):
        return  # a full disk is reported with the folder
    free_mb = diskspace.free_bytes(paths.DATA_DIR) // diskspace.MB
    if free_mb < options.min_free_mb:
        report.warn(
            f"{paths.DATA_DIR}: {free_mb} MB free, below min_free_mb ({options.min_free_mb})"
        )
    else:
        report.ok(f"{paths.DATA_DIR}: {free_mb} MB free")


def check_json_files(report: Report) -> None:
    """Every JSON file in /data parses (options, data version, settings, state)."""
    for path in sorted(paths.DATA_DIR.glob("*.json")):
        try:
            jsonfile.load(path)
        except JsonFileError as error:
            report.fail(f"{path}: {error.problem}")
        except OSError as error:
            report.fail(f"{path}: cannot be read ({error.strerror})")
        else:
            report.ok(f"{path}: valid JSON")


def check_data_version(report: Report) -> None:
    """The data version is one this add-on starts with (a damaged file is reported above)."""
    try:
        version = migrations.recorded_version(paths.DATA_VERSION_FILE)
    except (OSError, JsonFileError):
        return
    except MigrationError as error:
        report.fail(f"data version: {error}")
        return
    steps = len(migrations.STEPS)
    if version > steps:
        report.fail(f"data version {version} is newer than this add-on ({steps})")
    else:
        report.ok(f"data version {version}")
