"""The add-on's own errors. Each message is a complete sentence for the user: what failed, which
file or option, and what to do. The command line prints it as one line instead of a traceback."""


class AddonError(Exception):
    """Base of every error the add-on reports to its user."""
