"""TLS from /ssl: a server SSLContext from the certfile and keyfile options.

The options name files inside /ssl, which other add-ons (Let's Encrypt, DuckDNS) write. A name
that would leave /ssl (`../`, an absolute path, a NUL, a link) is refused with one line naming the
option, and the files are opened without following links (the beneath module), so what is loaded
is the file that was checked: ssl reads it through /dev/fd, not by its name.
"""

import contextlib
import ssl
from collections.abc import Iterator
from pathlib import Path

from . import beneath, paths
from .errors import AddonError


class TlsError(AddonError):
    """The certificate or key is missing or unusable; the message names the file."""


def server_context(certfile: str, keyfile: str, folder: Path | None = None) -> ssl.SSLContext:
    """An SSLContext for a TLS server, from files in /ssl named by the options."""
    folder = folder or paths.SSL_DIR
    with contextlib.ExitStack() as stack:
        opened = [
            stack.enter_context(_opened(option, name, folder))
            for option, name in (("certfile", certfile), ("keyfile", keyfile))
        ]
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        try:
            context.load_cert_chain(certfile=f"/dev/fd/{opened[0]}", keyfile=f"/dev/fd/{opened[1]}")
        except (ssl.SSLError, OSError) as error:
            cert, key = folder / certfile, folder / keyfile
            msg = f"cannot use {cert} with {key}: {error}"
            raise TlsError(msg) from error
    return context


@contextlib.contextmanager
def _opened(option: str, name: str, folder: Path) -> Iterator[int]:
    """The descriptor of the file an option names, or TlsError naming the option."""
    try:
        with beneath.opened_file(folder, name) as descriptor:
            yield descriptor
    except beneath.BeneathError as error:
        msg = f"{error}: set the option {option} to a file in {folder}"
        raise TlsError(msg) from error
