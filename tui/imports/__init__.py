"""Moving in from other clients: each format read into conversations (trees, every branch
kept), never modifying the source; see `tui.imports.run` for the command."""
