"""`python -m tui` runs the rqtop command line."""

from tui.cli import main

main()
