"""Errors a data engineer can act on: each names the file, row or setting at fault."""


class KaError(Exception):
    """Base class; the CLI prints these without a traceback and exits non-zero."""

    exit_code = 1


class ConfigError(KaError):
    """Configuration or master data is missing or invalid."""

    exit_code = 2


class FileRejected(KaError):
    """A feed file cannot be read at all; nothing of it is loaded."""

    def __init__(self, path: str, reason: str):
        super().__init__(f"{path}: rejected: {reason}")
        self.path = path
        self.reason = reason
