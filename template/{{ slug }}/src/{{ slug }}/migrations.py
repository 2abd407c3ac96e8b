"""Data migrations between add-on versions: numbered steps that bring /data up to date.

STEPS[N - 1] brings the data from version N - 1 to N. Versions are integers, never compared as
text ("0.10" < "0.2" as text). After each step the version reached is recorded with an atomic
write, so a crash repeats at most the step that was running: every step must be idempotent (safe
to run twice). migrate() runs at start, before anything else reads or writes the data; the
database's own schema steps follow when it is opened (database.py). Data from a newer add-on
version is refused rather than guessed at.
"""

import json
import logging
from collections.abc import Callable, Sequence
from pathlib import Path

from . import paths
from .atomicfile import set_aside, write_atomic
from .errors import AddonError

LOG = logging.getLogger(__name__)

Step = Callable[[Path], None]


class MigrationError(AddonError):
    """The data cannot be migrated; the message says why and what to do."""


def _create_folders(data: Path) -> None:
    """Create the folders the add-on keeps in /data."""
    for folder in paths.DATA_FOLDERS:
        paths.make_private_folder(data / folder.relative_to(paths.DATA_DIR))


def _rename_legacy_settings(data: Path) -> None:
    """Rename config.json, the name used by early add-ons, to settings.json (once)."""
    legacy, current = data / "config.json", data / "settings.json"
    if legacy.is_file() and not current.exists():
        legacy.replace(current)


# Append new steps at the end; never remove, edit or reorder the old ones.
STEPS: tuple[Step, ...] = (_create_folders, _rename_legacy_settings)


def data_version(version_file: Path | None = None) -> int:
    """The data version recorded in version_file; 0 when there is none."""
    version_file = version_file or paths.DATA_VERSION_FILE
    try:
        recorded = json.loads(version_file.read_text(encoding="utf-8"))["version"]
    except FileNotFoundError:
        return 0
    except (OSError, ValueError, KeyError, TypeError) as error:
        aside = set_aside(version_file, "corrupt")
        LOG.error("%s is damaged (%s), kept as %s: re-running every data step", version_file,
                  error, aside)  # fmt: skip
        return 0
    if not isinstance(recorded, int) or recorded < 0:
        aside = set_aside(version_file, "corrupt")
        LOG.error("%s holds no valid version, kept as %s: re-running every data step",
                  version_file, aside)  # fmt: skip
        return 0
    return recorded


def migrate(
    data: Path | None = None,
    steps: Sequence[Step] = STEPS,
    version_file: Path | None = None,
) -> int:
    """Run the steps the data has not had yet; return the data version reached."""
    data = data or paths.DATA_DIR
    version_file = version_file or paths.DATA_VERSION_FILE
    current = data_version(version_file)
    if current > len(steps):
        msg = (
            f"the data in {data} has version {current}, but this add-on knows only versions up "
            f"to {len(steps)}: it comes from a newer version of the add-on. Update the add-on, "
            "or restore a backup made with this version"
        )
        raise MigrationError(msg)
    for number in range(current + 1, len(steps) + 1):
        step = steps[number - 1]
        LOG.info("Data migration %d: %s", number, (step.__doc__ or step.__name__).strip())
        step(data)
        write_atomic(version_file, json.dumps({"version": number}) + "\n")
    return len(steps)
