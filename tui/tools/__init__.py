"""Tools from MCP servers: their configuration, their connections and the calls to them.

`mcp` is an optional extra (`pip install 'tui-chat[mcp]'`), imported only once a server is
configured and only off the first frame: without servers nothing here costs anything.
"""
