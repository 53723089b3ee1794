"""``python -m cli`` runs the ``intygsgateway`` command."""

import sys

from cli import main

sys.exit(main())
