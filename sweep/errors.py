"""The one exception for mistakes a user can fix; ``python -m sweep`` maps it to exit status 2."""


class UserError(Exception):
    """A mistake the user can fix: a bad path, flag value or results folder.

    ``str(e)`` is one line saying what is wrong and what is allowed; the command line
    prints it as ``sweep: error: <line>`` and exits with status 2, without a traceback.
    ``analysis/`` raises it too.
    """


class SweepAborted(RuntimeError):
    """A sweep stopped before its end (a worker process died); finished runs are saved.

    The command line prints it as one line and exits with status 1.
    """
