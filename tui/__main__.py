"""Lets `python -m tui` behave exactly like the `tui-chat` command."""

from tui.launch import main

raise SystemExit(main())
