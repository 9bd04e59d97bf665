"""`python -m pybroker` runs the command-line entry point."""

from pybroker.cli import main

raise SystemExit(main())
