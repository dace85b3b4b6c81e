"""Replies laid out ahead of a scroll are laid out in steps of a block or so, with the
event loop's turn between them, and come out as laid out in one go."""

from __future__ import annotations

import asyncio
import math
from pathlib import Path

from markdown_it import MarkdownIt
from markdown_it.tree import SyntaxTreeNode

from tests.test_long_history_keys import ahead_done, sixty_turns_opened
from tests.test_stored_replies import RICH_REPLY, plain_look
from tui.ui import markdown_lines
from tui.ui.markdown_kept import forget_kept_layouts, lay_out_kept, laying_out_kept
from tui.ui.markdown_lines import LINES_PER_STEP, LaidOutInSteps, MarkdownLook
from tui.ui.markdown_references import References


def test_a_run_is_laid_out_a_block_a_step_then_its_lines_a_few_dozen_a_step() -> None:
    """Laid out ahead of a scroll, a reply's run took 8-11 ms in one go, and a key or a
    frame that came meanwhile waited for all of it: in steps, each waits for a block."""
    look = plain_look()
    forget_kept_layouts()
    run = RICH_REPLY * 3  # every kind of block, and more lines than a step makes
    steps = laying_out_kept(run, 70, look)
    taken = 0
    while True:
        try:
            next(steps)
        except StopIteration as done:
            in_steps = done.value
            break
        taken += 1
    blocks = len(SyntaxTreeNode(MarkdownIt("gfm-like").parse(run)).children)
    line_steps = math.ceil(len(in_steps.lines) / LINES_PER_STEP)
    assert blocks > 4 and line_steps > 1
    assert taken == blocks + line_steps
    assert lay_out_kept(run, 70, look) is in_steps  # kept, as one laid out in one go is


async def test_the_replies_ahead_are_laid_out_with_the_loop_s_turns_between_blocks(
    tmp_path: Path,
) -> None:
    """Other work (a key, a frame) gets a turn of the event loop between every two steps
    of the replies laid out ahead, not only between replies."""
    async with sixty_turns_opened(tmp_path) as (pilot, log):
        await ahead_done(pilot)
        forget_kept_layouts()
        steps_taken: list[int] = []
        turns_between = [0]
        laying_out = markdown_lines.laying_out

        def counted(
            source: str, width: int, look: MarkdownLook, references: References = ()
        ) -> LaidOutInSteps:
            """Notes, at each step, how many turns the other work had since the last."""
            steps = laying_out(source, width, look, references)
            while True:
                try:
                    next(steps)
                except StopIteration as done:
                    return done.value  # type: ignore[no-any-return]
                steps_taken.append(turns_between[0])
                turns_between[0] = 0
                yield

        async def other_work() -> None:
            while True:
                turns_between[0] += 1
                await asyncio.sleep(0)

        other = asyncio.create_task(other_work())
        markdown_lines.laying_out = counted
        try:
            await log._laying_out_ahead(below=False)
        finally:
            markdown_lines.laying_out = laying_out
            other.cancel()
        assert len(steps_taken) > 10, "several replies' blocks"
        assert all(turns >= 1 for turns in steps_taken)
