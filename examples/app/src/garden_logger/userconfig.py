"""The user's own settings file in /config, the add-on's configuration folder.

Users edit it with the File editor, Samba or SSH add-ons, and it is part of the add-on's backup.
The add-on writes it from EXAMPLE on first start and never overwrites it afterwards.
It is TOML, read with the standard tomllib, so users can comment what they change.
"""

import logging
import tomllib
from pathlib import Path
from typing import Any

from . import paths
from .atomicfile import write_atomic
from .errors import AddonError

LOG = logging.getLogger(__name__)

FILE_NAME = "settings.toml"
EXAMPLE = """\
# Settings of this add-on that you may edit. The add-on reads this file when it starts.
# Delete the file and restart the add-on to get this example back.

# greeting = "Hello from your add-on"
"""


class UserConfigError(AddonError):
    """The user's settings file is not valid TOML; the message says where."""


# The user's own file, edited with other add-ons (File editor, Samba, SSH): readable by them.
USER_FILE_MODE = 0o644


def ensure_user_config(folder: Path | None = None) -> Path:
    """Create the settings file from EXAMPLE when it does not exist; never overwrite it."""
    path = (folder or paths.ADDON_CONFIG_DIR) / FILE_NAME
    if not path.exists():
        write_atomic(path, EXAMPLE, mode=USER_FILE_MODE)
    return path


def load_user_config(folder: Path | None = None) -> dict[str, Any]:
    """The user's settings ({} when the file does not exist)."""
    path = (folder or paths.ADDON_CONFIG_DIR) / FILE_NAME
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        msg = f"{path} is not valid TOML ({error}): fix it, or delete it to start over"
        raise UserConfigError(msg) from error


def prepare() -> None:
    """At start-up: write the example file if there is none, then log the user's settings."""
    ensure_user_config()
    LOG.info("User settings: %s", load_user_config())
