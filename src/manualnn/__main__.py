import sys

from manualnn.launch import main

sys.exit(main())
