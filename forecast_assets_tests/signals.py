"""Processes a test stops with a signal start with the default signal dispositions.

Dagster's `capture_interrupts`, which in-process executions in this pytest process run, sets SIGTERM
to SIGINT's handler when it restores SIGINT. Where pytest started with SIGINT ignored (a background
job of a non-interactive shell), that handler is SIG_IGN, and an ignored signal stays ignored across
exec: the explorer or `make ui` started from here would then outlive the SIGTERM the test sends.
"""

import signal


def default_signals() -> None:
    """A Popen preexec_fn: the signals a user stops a server with take their default action."""
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT):
        signal.signal(sig, signal.SIG_DFL)
