"""``python -m shieldwall.cli``."""

from shieldwall.cli.main import main

main()
