"""The ``manualnn`` command's entry point (and ``python -m manualnn``'s): it loads the
command inside a handler, so that a Ctrl-C while the modules load ends as any other
interruption does, in one line and exit status 130."""

import sys


def main(argv=None) -> int:
    try:
        from manualnn.cli.app import main as run
    except KeyboardInterrupt:
        print("manualnn: interrupted", file=sys.stderr)
        return 130
    return run(argv)
