"""Allow `python -m parvis`."""

from parvis.cli import main

main()
