"""Opening a long stored conversation: 2,000 messages, about 2 MB of Markdown.

    python -m benchmarks.long_conversation [--messages 2000] [--baseline]

Measures: in a real terminal (tmux, if installed), launch -> the last messages on screen,
beside a Textual app that shows one line and the same screen made of Textual's stock
widgets (floors: `benchmarks/stock_widgets_screen.py`);
headless, the same from the app's start, then each step of scrolling up 40 lines at a time
until a frame shows it (at the top, earlier turns load first) for at most
--scroll-seconds, the longest the event loop was held meanwhile (a stall: what a keypress
would wait behind), and peak RSS;
then Home / End on the selected message (the conversation's true ends) and `Up` held;
then, from a new conversation, a search typed and its hit (mid-history) opened.
With --baseline, also the eager design (every message mounted at once) in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from tempfile import TemporaryDirectory

from textual import events
from textual.screen import Screen

import tui.ui.widgets.conversation_log as chat_screen_module
import tui.ui.widgets.log_sliding as log_sliding_module
from benchmarks.workload import markdown_tokens
from tui.chat import Conversation
from tui.config import Settings
from tui.gc_tuning import collect_nothing_until_started
from tui.store import Store
from tui.ui.app import ChatApp
from tui.ui.frames import next_frame
from tui.ui.widgets.conversation_log import ConversationLog


def build_history(path: Path, count: int) -> None:
    store = Store.open(path)
    conversation = Conversation(model="m")
    start = conversation.add_user_message("start")
    store.save_conversation(conversation, None)
    store.save_message(conversation, start)
    reply_text = "".join(markdown_tokens(180, seed=3))  # ~1 KB of mixed Markdown
    for i in range(count):
        if i % 2 == 0:
            message = conversation.add_user_message(f"Question {i}: how does part {i} work?")
        else:
            message = conversation.start_reply("m")
            message.content = f"Answer {i}.\n\n{reply_text}\n\nEnd of answer {i}."
            message.status = message.status.DONE
        store.save_message(conversation, message)
    store.close()


def started_as_the_command_starts_it(settings: Settings, *, continue_last: bool = True) -> ChatApp:
    """The app, with collection off until its start-up thread turns it back on, as
    `tui-chat` starts it (`tui.launch`): otherwise collections run during start-up that
    the real app never runs (the first scroll steps waited behind collections of 60-90
    ms). What this process left before (the history it built: 13 MB of cycles with 20,000
    messages), which a real launch does not have, is collected first, or the app would
    freeze it."""
    gc.enable()
    gc.collect()
    collect_nothing_until_started()
    return ChatApp(settings, continue_last=continue_last)


async def open_and_scroll(path: Path, count: int, budget: float) -> dict[str, float]:
    settings = Settings(model="m", base_url="http://127.0.0.1:9/v1", db_path=path)
    started = time.monotonic()
    app = started_as_the_command_starts_it(settings)
    last_answer = f"End of answer {count - 1 if count % 2 == 0 else count - 2}."
    frames = DisplayedFrames(app)
    async with app.run_test(size=(120, 40)):
        shown = await frames.showing(last_answer) - started
        screen = app.screen_stack[0]

        async def read_whole_at() -> float:  # the rest of the path, read after its end
            await screen.session.read_whole()
            return time.monotonic() - started

        read_whole = asyncio.create_task(read_whole_at())
        log = screen.log_view
        steps: list[float] = []
        stalls: list[float] = []
        probe = asyncio.create_task(measure_stalls(stalls))
        scroll_started = time.monotonic()
        while time.monotonic() - scroll_started < budget:
            steps.append(await scroll_up_a_step(log))
            if log.scroll_y <= 0 and not log.earlier:
                break
        scrolled = time.monotonic() - scroll_started
        probe.cancel()
        whole = await read_whole
        reached = count - log.earlier
    steps.sort()
    stalls.sort()
    return {
        "worst_stall": stalls[-1],
        "p99_stall": stalls[int(len(stalls) * 0.99)],
        "shown": shown,
        "whole": whole,
        "median_step": steps[len(steps) // 2],
        "p90_step": steps[int(len(steps) * 0.9)],
        "worst_step": steps[-1],
        "scrolled": scrolled,
        "messages_per_s": reached / scrolled,
        "reached_top": float(reached >= count),
    }


async def scroll_up_a_step(log: ConversationLog) -> float:
    """Scrolls up 40 lines; returns the time until a frame shows it. At the top, the step
    first waits for the earlier turns to load above (the view stays at the same turn).

    Timed by frames, not `Pilot.pause`: that waits until the process's CPU is idle, so
    every step counted at least 20 ms, and the first one a whole second while the client
    library loaded in a thread after start-up (a step's frame took 86 ms then)."""
    started = time.monotonic()
    while log.scroll_y <= 0 and log.earlier:  # loading, or about to: it scrolls back
        if time.monotonic() - started > 5:
            break  # nothing loaded: counted as a 5 s step
        await next_frame(log)
    log.scroll_relative(y=-40, animate=False)
    await next_frame(log)
    return time.monotonic() - started


async def jump_and_hold(path: Path, count: int, held_keys: int) -> dict[str, float]:
    """Ctrl+Up, then Home -> the first question on screen, End -> the last answer, then
    `Up` pressed `held_keys` times in a row as a held key repeats (each press waits for
    nothing), with the longest event-loop stall meanwhile."""
    settings = Settings(model="m", base_url="http://127.0.0.1:9/v1", db_path=path)
    app = started_as_the_command_starts_it(settings)
    last_answer = f"End of answer {count - 1 if count % 2 == 0 else count - 2}."

    frames = DisplayedFrames(app)

    async with app.run_test(size=(120, 40)) as pilot:
        await frames.shown_after(last_answer)
        await pilot.pause(0.5)
        await pilot.press("ctrl+up")
        stalls: list[float] = []
        probe = asyncio.create_task(measure_stalls(stalls))
        app.post_message(events.Key("home", None))
        home = await frames.shown_after("Question 0:")
        app.post_message(events.Key("end", None))
        end = await frames.shown_after(last_answer)
        await pilot.pause(0.3)
        jumps_stall = max(stalls)
        stalls.clear()
        started = time.monotonic()
        for _ in range(held_keys):
            app.post_message(events.Key("up", None))
            await asyncio.sleep(1 / 30)  # a held key's repeat rate
        await pilot.pause(0.5)
        held = time.monotonic() - started
        probe.cancel()
        log = app.screen_stack[0].log_view
        focused = getattr(app.focused, "message", None)
        reached = len(log.messages) - log.messages.index(focused) if focused else 0
    return {
        "home": home,
        "end": end,
        "jumps_stall": jumps_stall,
        "held_stall": max(stalls),
        "held_seconds": held,
        "held_reached": reached,
    }


async def search_and_open(path: Path, count: int, read_for: float = 0.0) -> dict[str, float]:
    """From a new conversation, Ctrl+F, the words of a question in the middle of the
    history typed a key at a time (each key searches), then, `read_for` seconds after the
    hit shows, Enter -> that question on screen; with the longest the event loop was held
    meanwhile."""
    settings = Settings(model="m", base_url="http://127.0.0.1:9/v1", db_path=path)
    app = started_as_the_command_starts_it(settings, continue_last=False)
    frames = DisplayedFrames(app)
    target = count * 6 // 10 // 2 * 2  # a question, as many digits as the last one
    words = f"part {target}"

    async with app.run_test(size=(120, 40)) as pilot:
        await frames.shown_after("^f Search")
        await pilot.pause(0.5)
        stalls: list[float] = []
        probe = asyncio.create_task(measure_stalls(stalls))
        await pilot.press("ctrl+f")
        await frames.shown_after("Search all conversations")
        for character in words:
            app.post_message(events.Key(character, character))
            await asyncio.sleep(0.1)  # a brisk typist
        await frames.shown_after(f"how does part {target}")
        await asyncio.sleep(read_for)
        typing_stall = max(stalls)
        stalls.clear()
        app.post_message(events.Key("enter", "\r"))
        opened = await frames.shown_after(f"Question {target}:")
        await pilot.pause(0.3)
        probe.cancel()
    return {
        "typing_stall": typing_stall,
        "opened": opened,
        "opening_stall": max(stalls),
    }


class DisplayedFrames:
    """When the app sent each frame to its (headless) terminal. What a frame shows is
    looked at once per frame, after it: looking renders the whole screen (5-10 ms), and
    looking every few milliseconds, as this did, held the app up by as much again as it
    measured (11 looks during a 0.35 s End)."""

    def __init__(self, app: ChatApp) -> None:
        self.count = 0
        self.last_at = time.monotonic()
        self._app = app
        display = app._display

        def counted(screen: Screen[object], renderable: object) -> None:
            display(screen, renderable)  # type: ignore[arg-type]
            self.count += 1
            self.last_at = time.monotonic()

        app._display = counted  # type: ignore[method-assign]

    async def shown_after(self, text: str) -> float:
        """Seconds from now until the first frame showing `text` was sent."""
        asked = time.monotonic()
        return await self.showing(text) - asked

    async def showing(self, text: str, timeout: float = 30.0) -> float:
        """When the first frame showing `text` (from now) was sent: the latest sent when
        it is looked at, so a frame sent less than one wait (2 ms) after another is
        credited with the earlier one's work."""
        looked_at = -1
        asked = time.monotonic()
        while time.monotonic() - asked < timeout:
            if self.count != looked_at:
                looked_at, sent_at = self.count, self.last_at
                strips = self._app.screen._compositor.render_strips()
                if any(text in strip.text for strip in strips):
                    return max(sent_at, asked)
            await asyncio.sleep(0.002)
        raise TimeoutError(f"{text!r} not on screen in {timeout} s")


async def measure_stalls(stalls: list[float], tick: float = 0.005) -> None:
    """How long the event loop was held at a time (what a keypress would wait behind): a
    step of the scroll may take several frames while the app stays responsive."""
    while True:
        before = time.monotonic()
        await asyncio.sleep(tick)
        stalls.append(time.monotonic() - before - tick)


ONE_LINE_APP = (
    "from textual.app import App; from textual.widgets import Static\n"
    "class OneLine(App):\n"
    "    def compose(self): yield Static('One line of Textual')\n"
    "OneLine().run()"
)
"""The floor of a launch in a terminal: Python, Textual's imports and a first frame."""


TYPED_AT_LAUNCH = "typed-at-launch"
"""Typed into tui-chat's terminal as it starts: in the prompt's box once Textual reads keys
and has drawn them there (the rows painted before Textual loads show the prompt empty; the
terminal's own echo, before the app turns it off, is not in the box)."""

STOCK_MESSAGES = 4
"""The messages the stock-widgets screen shows: the two turns tui-chat's first frame
shows at 120x40."""


def open_in_terminal(path: Path, count: int, repeat: int) -> dict[str, list[float]]:
    """Launch -> last answer on screen, in tmux (120x40), the real `tui-chat --continue`,
    and launch -> a key typed at once in its prompt (Textual up and reading keys); and,
    in the same rounds, a Textual app that shows one line and the same screen made of
    Textual's stock widgets (`benchmarks/stock_widgets_screen.py`). After one launch that
    is not timed: a first launch keeps the CSS Textual parsed (`tui.ui.parsed_styles`)
    and, as it ends, the rows the next launch paints before Textual loads
    (`tui.ui.kept_frame`); every launch after it reads them back, which is what a user
    meets every day."""
    app = shutil.which("tui-chat") or str(Path(sys.executable).parent / "tui-chat")
    last_answer = f"End of answer {count - 1 if count % 2 == 0 else count - 2}"
    with TemporaryDirectory() as home:
        messages = Path(home) / "messages.json"
        messages.write_text(json.dumps(_last_messages(path, STOCK_MESSAGES)), encoding="utf-8")
        stock = Path(__file__).with_name("stock_widgets_screen.py")
        programs = {
            "tui-chat": (f"{app} --continue", last_answer),
            # A key typed the moment it starts, in the prompt: Textual is up and reading.
            "tui-chat typed": (f"{app} --continue", f"│ {TYPED_AT_LAUNCH}"),
            "one line": (
                f"{sys.executable} -c {shlex.quote(ONE_LINE_APP)}",
                "One line of Textual",
            ),
            "stock widgets": (
                f"{shlex.quote(sys.executable)} {shlex.quote(str(stock))} "
                f"{shlex.quote(str(messages))}",
                last_answer,
            ),
        }
        data = Path(home) / "data" / "tui-chat"
        data.mkdir(parents=True)
        shutil.copy(path, data / "history.sqlite3")
        env = {
            **os.environ,
            "HOME": home,
            "XDG_DATA_HOME": str(Path(home) / "data"),
            "XDG_CONFIG_HOME": str(Path(home) / "config"),
            "OPENAI_API_KEY": "unused",
            "OPENAI_BASE_URL": "http://127.0.0.1:9/v1",
        }
        tmux = ["tmux", "-S", str(Path(home) / "tmux.sock")]
        command, shown = programs["tui-chat"]
        first = _shown_after(tmux, env, "first", command, shown, linger=1.5)
        time.sleep(0.5)  # (its exit, and the file it writes, done before the timed ones)
        times: dict[str, list[float]] = {name: [] for name in programs}
        times["first launch"] = [first] if first is not None else []
        for run in range(repeat):
            for name, (command, shown) in programs.items():
                session = f"open{run}{name.replace(' ', '')}"
                typed = TYPED_AT_LAUNCH if name == "tui-chat typed" else None
                taken = _shown_after(tmux, env, session, command, shown, typed=typed)
                if taken is not None:
                    times[name].append(taken)
                time.sleep(0.5)
        subprocess.run([*tmux, "kill-server"], check=False, capture_output=True)
    return times


def _last_messages(path: Path, count: int) -> list[tuple[str, str]]:
    """The last `count` messages of the history's latest conversation, as (role, text)."""
    store = Store.open(path)
    try:
        latest = store.latest_conversation_id()
        end = store.read_path_end(latest) if latest is not None else None
        shown = end.conversation.messages[-count:] if end is not None else []
        return [(message.role.value, message.content) for message in shown]
    finally:
        store.close()


def _shown_after(
    tmux: list[str],
    env: dict[str, str],
    session: str,
    command: str,
    shown: str,
    *,
    linger: float = 0.0,
    typed: str | None = None,
) -> float | None:
    """Seconds from starting `command` in a new tmux session until `shown` is on its
    screen (None: not in 30 s), with `typed` typed at once if given; the session is
    closed `linger` seconds after."""
    started = time.monotonic()
    subprocess.run(
        [*tmux, "new-session", "-d", "-x", "120", "-y", "40", "-s", session, command],
        env=env,
        check=True,
    )
    if typed is not None:
        subprocess.run([*tmux, "send-keys", "-l", "-t", session, typed], check=True)
    taken = None
    while time.monotonic() - started < 30:
        screen = subprocess.run(
            [*tmux, "capture-pane", "-p", "-t", session], capture_output=True, text=True
        ).stdout
        if shown in screen:
            taken = time.monotonic() - started
            break
        time.sleep(0.01)
    time.sleep(linger)
    subprocess.run([*tmux, "kill-session", "-t", session], check=False)
    return taken


def report(name: str, figures: dict[str, float], rss: float) -> None:
    top = "reached the top" if figures["reached_top"] else "(time budget spent before the top)"
    print(
        f"{name:<9} last messages on screen {figures['shown']:.2f} s (headless), the rest of "
        f"the conversation read by {figures['whole']:.2f} s; scrolling up "
        f"40 lines a step: median {figures['median_step'] * 1000:.0f} ms, p90 "
        f"{figures['p90_step'] * 1000:.0f} ms, worst {figures['worst_step'] * 1000:.0f} ms, "
        f"{figures['messages_per_s']:.0f} messages/s {top}; event loop held at most "
        f"{figures['worst_stall'] * 1000:.0f} ms (p99 {figures['p99_stall'] * 1000:.0f} ms); "
        f"peak RSS {rss:.0f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--scroll-seconds", type=float, default=60.0)
    parser.add_argument("--held-keys", type=int, default=150)
    parser.add_argument(
        "--baseline", action="store_true", help="also the eager design (takes many minutes)"
    )
    args = parser.parse_args()
    with TemporaryDirectory() as home:
        path = Path(home) / "history.sqlite3"
        build_history(path, args.messages)
        size_mb = path.stat().st_size / 1e6
        print(f"{args.messages} messages, database {size_mb:.1f} MB, 120x40")
        if shutil.which("tmux"):
            times = open_in_terminal(path, args.messages, repeat=5)
            shown = {
                "tui-chat": "tui-chat  launch -> last messages on screen in tmux",
                "tui-chat typed": "a key typed at launch shown in the prompt",
                "stock widgets": "the same screen in Textual's stock widgets",
                "one line": "a Textual app showing one line",
                "first launch": "the first launch (parsing the CSS it keeps)",
            }
            print(
                "; ".join(
                    f"{words}: median {statistics.median(times[name]):.2f} s of {len(times[name])}"
                    for name, words in shown.items()
                    if times.get(name)
                )
            )
        figures = asyncio.run(open_and_scroll(path, args.messages, args.scroll_seconds))
        report("tui-chat", figures, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        keys = asyncio.run(jump_and_hold(path, args.messages, args.held_keys))
        print(
            f"{'':<9} Ctrl+Up, Home -> first question on screen {keys['home']:.2f} s, End -> "
            f"last answer {keys['end']:.2f} s (event loop held at most "
            f"{keys['jumps_stall'] * 1000:.0f} ms); Up held for {args.held_keys} presses at "
            f"30/s: {keys['held_reached']:.0f} messages up in {keys['held_seconds']:.1f} s, "
            f"event loop held at most {keys['held_stall'] * 1000:.0f} ms"
        )
        for read_for in (0.0, 0.5):
            hit = asyncio.run(search_and_open(path, args.messages, read_for))
            print(
                f"{'':<9} Ctrl+F, a question's words typed (event loop held at most "
                f"{hit['typing_stall'] * 1000:.0f} ms), Enter {read_for:.1f} s after the hit "
                f"shows -> that question on screen {hit['opened']:.2f} s (event loop held at "
                f"most {hit['opening_stall'] * 1000:.0f} ms)"
            )
        if not args.baseline:
            return
        chat_screen_module.RESUMED_MESSAGES_SHOWN = sys.maxsize  # the eager design
        log_sliding_module.MOST_MOUNTED_MESSAGES = sys.maxsize
        figures = asyncio.run(open_and_scroll(path, args.messages, args.scroll_seconds))
        report("eager", figures, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


if __name__ == "__main__":
    main()
