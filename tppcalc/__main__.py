import sys

from tppcalc.cli.main import main

sys.exit(main())
