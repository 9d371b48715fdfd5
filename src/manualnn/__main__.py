import sys

from manualnn.cli.app import main

sys.exit(main())
