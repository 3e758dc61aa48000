"""``python -m hwsim.cli ARGS`` = ``hwsim ARGS``."""
import sys

from hwsim.cli.main import main

sys.exit(main())
