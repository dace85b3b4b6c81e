"""Lets `python -m tui` behave exactly like the `tui-chat` command."""

from tui.cli import main

raise SystemExit(main())
