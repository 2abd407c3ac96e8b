"""Where the add-on keeps its files.

The constants below are exactly the folders that config.yaml maps into the container, plus /data,
with the access config.yaml gives them. Set the environment variable HA_APP_ROOT to re-root every
path (for example $HA_APP_ROOT/data instead of /data), so the add-on runs on a development
machine and in tests without the Supervisor.
"""

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

ROOT_VARIABLE: Final = "HA_APP_ROOT"


def container_path(path: str) -> Path:
    """Return a container path, re-rooted under $HA_APP_ROOT when that is set."""
    root = os.environ.get(ROOT_VARIABLE)
    if not root:
        return Path(path)
    return Path(root).joinpath(path.lstrip("/"))


def is_local() -> bool:
    """Tell whether the add-on runs outside the Supervisor (HA_APP_ROOT is set)."""
    return bool(os.environ.get(ROOT_VARIABLE))


# The add-on's own folders (in /data, and its run-time folder) are for the add-on alone.
PRIVATE_FOLDER_MODE: Final = 0o700


def make_private_folder(path: Path) -> Path:
    """Create path (and missing parents) if needed, and give it PRIVATE_FOLDER_MODE.

    The mode is set with chmod, which the umask does not filter (mkdir's mode it does: umask 000
    made such folders 0777), and on every call, so folders made by older versions get it too.
    """
    path.mkdir(mode=PRIVATE_FOLDER_MODE, parents=True, exist_ok=True)
    path.chmod(PRIVATE_FOLDER_MODE)
    return path


# "data", or the `map` type of each folder config.yaml maps.
MapType = Literal["data"]


@dataclass(frozen=True)
class Mount:
    """A folder in the container: /data or a `map` entry of config.yaml."""

    map_type: MapType
    path: Path
    writable: bool
    in_backup: bool


DATA_DIR: Final = container_path("/data")

OPTIONS_FILE: Final = DATA_DIR / "options.json"
DATA_VERSION_FILE: Final = DATA_DIR / "data-version.json"
# Locked while the add-on runs: a second add-on on the same /data is refused (see locks.py).
INSTANCE_LOCK_FILE: Final = DATA_DIR / ".instance.lock"
CACHE_DIR: Final = DATA_DIR / "cache"
TMP_DIR: Final = DATA_DIR / "tmp"
LOG_DIR: Final = DATA_DIR / "logs"
# Folders of /data that config.yaml's backup_exclude leaves out of every backup.
DATA_FOLDERS: Final = (CACHE_DIR, TMP_DIR, LOG_DIR)
# The stores' files.
SETTINGS_FILE: Final = DATA_DIR / "settings.json"
STATE_FILE: Final = DATA_DIR / "state.json"

# Run-time files (a tmpfs in the container, never backed up).
RUN_DIR: Final = container_path("/run/garden_logger")
PID_FILE: Final = RUN_DIR / "main.pid"  # written once the add-on has started

MOUNTS: Final[tuple[Mount, ...]] = (Mount("data", DATA_DIR, writable=True, in_backup=True),)
