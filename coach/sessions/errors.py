"""Errors the programme services raise; the CLI and TUI show their message as it is."""


class InputError(ValueError):
    """Something the user gave is wrong; the message says what and where (row, field)."""


class NotFound(InputError):
    """An id that does not exist, e.g. "pair 7 does not exist"."""
