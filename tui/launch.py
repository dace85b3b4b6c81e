"""The `tui-chat` command's first code: the collector off before anything else loads.

Start-up imports some 600 modules (Textual, asyncio, the app's own), whose objects live
for good; with collection on, CPython scanned them again and again as they loaded.
`import tui.cli, tui.ui.app` took 0.258 s, 0.243 s with collection off (median of 12,
alternating). Whatever runs next turns it back on: the app after its first frame
(`tui.gc_tuning.start_up_is_over`), pipe mode once the answer's first text (or its end)
is out, after the client library has loaded for the request (with `--tools`, the tool
servers start before it too), any other command at once
(`tui.gc_tuning.collect_again_after_start_up`).
"""

import gc


def main() -> int:
    gc.disable()
    try:
        from tui.cli import main as run_command
    except KeyboardInterrupt:  # Ctrl+C at once: a quiet exit
        from tui.exit_status import EXIT_INTERRUPTED

        return EXIT_INTERRUPTED
    return run_command()
