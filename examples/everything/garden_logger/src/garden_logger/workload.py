"""The add-on's own work: this file is yours, `copier update` never changes it.

The template writes it once (like CHANGELOG.md) and again only if you delete it; its other
modules, app.py included, follow the template's releases. app.py calls beat() once a minute with
the open stores, from its main loop, and reports an OSError or AddonError raised here as one line
before carrying on. Replace the sample below with the add-on's real work (put more of it in
modules of your own beside this one) and keep beat()'s signature: the template's later releases
call it the same way.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # app imports this module: no import back at run time
    from .app import Stores

LOG = logging.getLogger(__name__)


def beat(stores: Stores) -> None:
    """The sample: record with each storage pattern that the add-on is alive."""
    now = datetime.now(UTC).isoformat(timespec="seconds")
    stores.state.update(status="running", heartbeat=now)
    stores.database.add_event("heartbeat", {"at": now})
    LOG.debug("Heartbeat at %s", now)
