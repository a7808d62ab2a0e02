"""The user error: what the ``pmc15m`` command turns into one line on stderr and exit code 2.

Core, below every concept: it imports nothing, so any module (the sources, the trainer, the
commands) may raise it without reaching into another concept for an error class.
"""

from __future__ import annotations


class UserError(Exception):
    """Bad arguments, unreadable sources: the command prints one line and exits 2.

    The message is the whole line after ``pmc15m: error:``; it names what to change. No
    traceback, because the fix is in what the user gave, not in the code.
    """
