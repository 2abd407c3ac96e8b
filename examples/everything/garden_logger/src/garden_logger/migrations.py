"""Data migrations between add-on versions: numbered steps that bring /data up to date.

STEPS[N - 1] brings the data from version N - 1 to N. Versions are integers, never compared as
text ("0.10" < "0.2" as text). After each step the version reached is recorded with an atomic
write, so a crash repeats at most the step that was running: every step must be idempotent (safe
to run twice). migrate() runs at start, before anything else reads or writes the data; the
database's own schema steps follow when it is opened (database.py). Data from a newer add-on
version, with a recorded version that is not a whole number, or whose version file cannot be
read, is refused rather than guessed at.
"""

import json
import logging
from collections.abc import Callable, Sequence
from pathlib import Path

from . import jsonfile, paths
from .atomicfile import write_atomic
from .errors import AddonError
from .jsonfile import JsonFileError

LOG = logging.getLogger(__name__)

Step = Callable[[Path], None]
_SHOWN = 60  # characters of a bad version quoted in an error message


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
    """The data version recorded in version_file; 0 when there is none (fresh data).

    A version that cannot be known stops the start with one MigrationError line and leaves the
    file as it is, whatever the reason: a newer version (checked by migrate), a recorded version
    that is not a whole number of at least 0 ("99", 99.0), or a file that cannot be read as a
    JSON object (torn, nested too deeply, a link, a FIFO: jsonfile's bounds). Every step is
    idempotent only over data of the versions before it: running them all again over data of
    unknown layout, as if it were version 0, could damage it.
    """
    version_file = version_file or paths.DATA_VERSION_FILE
    try:
        return recorded_version(version_file)
    except FileNotFoundError:
        return 0
    except JsonFileError as error:
        msg = (
            f"{error}: the add-on cannot tell which data migrations have run, so it changes "
            "nothing. Restore a backup made with this version of the add-on, or repair it"
        )
        raise MigrationError(msg) from None


def recorded_version(version_file: Path) -> int:
    """The version in version_file, without changing anything (doctor uses it too).

    Raises FileNotFoundError, JsonFileError for a damaged file, MigrationError for a version
    that is not a whole number of at least 0.
    """
    recorded = jsonfile.load_object(version_file)
    version = recorded.get("version")
    if isinstance(version, int) and not isinstance(version, bool) and version >= 0:
        return version
    if "version" in recorded:
        shown = json.dumps(version)
        shown = shown if len(shown) <= _SHOWN else shown[:_SHOWN] + "..."
        problem = f"holds the data version {shown}, which is not a whole number of at least 0"
    else:
        problem = "holds no data version"
    msg = (
        f"{version_file} {problem}: the data comes from another version of the add-on or was "
        "edited by hand. Update the add-on, or restore a backup made with this version"
    )
    raise MigrationError(msg)


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
