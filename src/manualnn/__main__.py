import sys

try:   # a Ctrl-C while the modules load is an interruption too: one line, no traceback
    from manualnn.cli.app import main
except KeyboardInterrupt:
    print("manualnn: interrupted", file=sys.stderr)
    sys.exit(130)

sys.exit(main())
