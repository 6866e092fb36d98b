"""``python -m dec_np``: the same as the ``dec-np`` command (see :mod:`dec_np.cli`)."""
import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
