"""Start-up work that must not delay the first frame, done in a thread once it is drawn.

`import openai` holds the interpreter for ~0.4 s: started at once it put off a resumed
conversation's first frame by 0.6 s. Pygments builds a language's rules on first use
(25-130 ms), which would otherwise hold up the frame of a reply's first code block; and
Textual's Markdown module, which highlights fences, is loaded here too (25 ms), not with
the app (its first frame draws stored code plain) nor in a reply's first code block. So is
the Markdown parser, which a launch whose replies were kept laid out (`kept_layouts`) did
not need, with the patterns of its link finder (20 ms and 30 ms).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.worker import get_current_worker

from tui.backend import load_client_library
from tui.gc_tuning import freeze_long_lived_objects
from tui.ui.code_highlighters import build_highlighters, load_fence_highlighter
from tui.ui.markdown_lines import load_markdown_parser

COMMON_CODE_LANGUAGES = ("", "python", "bash", "sh", "javascript", "typescript", "json")
IDLE_BEFORE_WARMING = 1.0
"""Seconds without a reply streaming before the highlighters are built."""


def warm_up(streaming: Callable[[], bool], last_reply_ended: Callable[[], float]) -> None:
    """Loads the client library, then, once no reply has streamed for a second, builds
    the usual highlighters (building them during a first full-speed reply delayed its end
    by ~0.2 s). Runs in a thread worker; returns early if the app closes."""
    try:
        load_markdown_parser()
        load_client_library()
        load_fence_highlighter()
    finally:  # collection comes back on here too, whatever happened before or now
        freeze_long_lived_objects()  # the client library: out of full collections' way
    worker = get_current_worker()
    while streaming() or time.monotonic() - last_reply_ended() < IDLE_BEFORE_WARMING:
        if worker.is_cancelled:
            return
        time.sleep(IDLE_BEFORE_WARMING / 4)
    build_highlighters(COMMON_CODE_LANGUAGES)
    freeze_long_lived_objects()  # every lexer module: out of full collections' way too
