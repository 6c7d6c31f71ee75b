"""``python -m rnnconf``: the command line (:mod:`rnnconf.tools.cli`)."""

import sys

from rnnconf.tools.cli import main

if __name__ == "__main__":
    sys.exit(main())
