"""`make bench`: python -m scripts.bench [--venv PATH] [--large N] ..."""

import sys

from . import main

if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit("Interrupted")
