"""The statuses `tui-chat` ends with, where a script reads them: kept apart from the code
that ends with them so that the command line reads them without loading pipe mode."""

EXIT_OK = 0
EXIT_API_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_READER_GONE = 141
"""stdout's reader went away (`| head -1`): what a shell reports for a program killed by
SIGPIPE (`yes | head -1`), though this one stops the request and ends quietly."""
