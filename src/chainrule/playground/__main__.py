"""``python -m chainrule.playground [--host H] [--port P] [--open]``."""
import sys

from .cli import main

sys.exit(main())
