"""``python -m sweep``: parse arguments, call one function, map errors to exit codes."""

import sys

from sweep.cli import main

if __name__ == "__main__":
    sys.exit(main())
