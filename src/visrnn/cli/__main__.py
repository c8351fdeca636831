"""``python -m visrnn.cli``: the ``visrnn`` command without installing it."""

import sys

from visrnn.cli import main

sys.exit(main())
