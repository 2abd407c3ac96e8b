"""The add-on's own work: this file is yours, `copier update` never changes it.

The template writes it once (like CHANGELOG.md) and again only if you delete it; its other
modules, app.py included, follow the template's releases. app.py calls beat() once a minute with
the open stores, from its main loop, and reports an OSError or AddonError raised here as one line
before carrying on. It calls start() once the stores are open, before the first beat() (an
error there stops the start-up with one line), and stop() when the add-on stops, before it
closes the stores. Replace the samples below with the add-on's real work (put more of it in
modules of your own beside this one) and keep the three functions and their signatures: the
template's later releases call them the same way.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # app imports this module: no import back at run time
    from .app import Stores

LOG = logging.getLogger(__name__)


def start(stores: Stores) -> None:
    """The sample: count the starts in the settings."""
    stores.settings.set("starts", stores.settings.get_typed("starts", 0) + 1)


def beat(stores: Stores) -> None:
    """The sample: record with each storage pattern that the add-on is alive."""
    now = datetime.now(UTC).isoformat(timespec="seconds")
    stores.state.update(status="running", heartbeat=now)
    LOG.debug("Heartbeat at %s", now)


def stop(stores: Stores) -> None:
    """The sample: record in the state that the add-on stopped."""
    stores.state.update(status="stopped")
