"""`python -m rnnlab.cli`: the rnnlab command."""

import sys

from . import main

sys.exit(main())
