#!/usr/bin/env python
"""Django's command-line utility; ``tongban`` is the same with a shorter name."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "src"))

from tongban.cli import main

if __name__ == "__main__":
    main(sys.argv)
