"""Reading a part of a conversation's path before the rest of its tree: its end (what a
resumed conversation shows first) or the messages around one (a search hit). Reading
20,000 messages back takes a quarter of a second; a screenful and a few batches around
it take a few milliseconds, and the rest is read after (`conversation_in_steps` with
`known`, between the event loop's turns), while every command waits for it."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tui.chat.conversation import Conversation
from tui.gc_tuning import collection_paused
from tui.store_tree import (
    CONVERSATION_DETAILS,
    MESSAGES_OF,
    MessageRows,
    choose_again,
    conversation_of,
    load_image,
    place_messages,
    read_conversation,
)

PATH_END_MESSAGES = 40
"""Messages read first from the end of the path: the first screenful is at most 12,
and a few batches above it can be scrolled to while the rest is read."""
AROUND_MESSAGES = 20
"""Messages read first on each side of one opened from far back (a search hit)."""

_CHOSEN_CHILD = """
    COALESCE(
        (SELECT k.id FROM messages k WHERE k.id = p.chosen_child_id AND k.parent_id = p.id
            AND k.conversation_id = p.conversation_id),
        (SELECT MAX(k.id) FROM messages k WHERE k.parent_id = p.id
            AND k.conversation_id = p.conversation_id))
"""
"""Each parent's chosen child, or its newest if the chosen one is not among its children
(as `choose_again` chooses)."""

_PATH = f"""
WITH RECURSIVE path(id, depth) AS (
    SELECT COALESCE(
        (SELECT m.id FROM messages m WHERE m.id = c.chosen_root_id
            AND m.conversation_id = c.id AND m.parent_id IS NULL),
        (SELECT MAX(m.id) FROM messages m WHERE m.conversation_id = c.id
            AND m.parent_id IS NULL)), 0
    FROM conversations c WHERE c.id = ?
    UNION ALL
    SELECT {_CHOSEN_CHILD}, path.depth + 1 FROM path JOIN messages p ON p.id = path.id
)
SELECT id, depth FROM path WHERE id IS NOT NULL ORDER BY depth DESC LIMIT ?
"""
"""The path's last messages, last first, each with how many come before it on the path.
20-35 ms over 20,000 messages, in SQLite alone: read only when the end is not known."""

_KNOWN_END = "SELECT path_end_id, path_length FROM conversations WHERE id = ?"
"""Where the path ends and how long it is, as tui-chat last wrote them (`_write_path_end`);
NULL once anything else changed the tree."""

_UP_FROM_THE_END = """
WITH RECURSIVE up(id, parent_id, steps) AS (
    SELECT id, parent_id, 0 FROM messages WHERE id = ? AND conversation_id = ?
    UNION ALL
    SELECT m.id, m.parent_id, up.steps + 1 FROM up
    JOIN messages m ON m.id = up.parent_id AND m.conversation_id = ?
    WHERE up.steps < ?
)
SELECT id FROM up ORDER BY steps
"""
"""From the known end up, as many messages as asked: a few steps, however long the path."""

_ANCESTORS = """
WITH RECURSIVE up(id, parent_id, conversation_id, chosen) AS (
    SELECT id, parent_id, conversation_id, 1 FROM messages WHERE id = ? AND conversation_id = ?
    UNION
    SELECT p.id, p.parent_id, p.conversation_id, p.chosen_child_id = up.id
    FROM up JOIN messages p ON p.id = up.parent_id AND p.conversation_id = up.conversation_id
)
SELECT id, chosen FROM up
"""
"""A message and the messages above it, nearest first, each with whether the one below
it is its chosen child (`UNION`, not `UNION ALL`: parents written in a cycle by another
tool end the walk instead of running it forever; such a tree is then read whole)."""

_CHOSEN_BELOW = f"""
WITH RECURSIVE down(id, n) AS (
    SELECT ?, 0
    UNION ALL
    SELECT {_CHOSEN_CHILD}, down.n + 1 FROM down JOIN messages p ON p.id = down.id
    WHERE down.n < ?
)
SELECT id FROM down WHERE id IS NOT NULL AND n > 0 ORDER BY n
"""
"""The path below a message, as far as asked."""


@dataclass(slots=True)
class PathPart:
    """A conversation as read first: the whole of it if its path is short, otherwise a
    part of the path (with each message's siblings, for the versions' labels) under the
    top, with how many messages come before it on the path, not read yet, and whether
    any come after it."""

    conversation: Conversation
    earlier: int = 0
    later: bool = False
    whole: bool = False
    """Read whole: every branch, not only the path's part and its siblings."""


def read_path_end(
    db: sqlite3.Connection, conversation_id: int, count: int = PATH_END_MESSAGES
) -> PathPart | None:
    """The end of the conversation's path (None: there is no such conversation). A path
    of at most `count` messages is read whole."""
    with collection_paused():
        row = db.execute(CONVERSATION_DETAILS, (conversation_id,)).fetchone()
        if row is None:
            return None
        known = db.execute(_KNOWN_END, (conversation_id,)).fetchone()
        if known is not None and known[0] is not None and known[1] is not None:
            end, length = int(known[0]), int(known[1])
            if length <= count:
                return _whole(db, conversation_id)
            up = _up_from(db, conversation_id, end, count)
            if up is not None:
                return _part_of_path(db, row, up[count], up[count - 1 :: -1], length - count, False)
        path = db.execute(_PATH, (conversation_id, count + 1)).fetchall()[::-1]
        if len(path) <= count:
            return _whole(db, conversation_id)
        ids = [r[0] for r in path[1:]]
        return _part_of_path(db, row, path[0][0], ids, int(path[1][1]), False)


def _up_from(
    db: sqlite3.Connection, conversation_id: int, end: int, count: int
) -> list[int] | None:
    """`end` and the `count` messages above it, from the end up; None when the tree does
    not have them, or `end` has children (the path goes on: it is not the end written).
    What they make is checked as any part of the path is (`_part_of_path`), and the rest,
    read after the first frame, is compared with the whole tree, shown afresh if they
    differ."""
    up = [
        r[0] for r in db.execute(_UP_FROM_THE_END, (end, conversation_id, conversation_id, count))
    ]
    below = db.execute("SELECT 1 FROM messages WHERE parent_id = ? LIMIT 1", (end,)).fetchone()
    return up if len(up) == count + 1 and below is None else None


def read_path_around(
    db: sqlite3.Connection, conversation_id: int, message_id: int, count: int = AROUND_MESSAGES
) -> PathPart | None:
    """The path around a message on it, `count` messages on each side at most; None if
    the message is not on the path the user last saw (or not in the conversation): then
    it must be read whole, to show the message's branch."""
    with collection_paused():
        row = db.execute(CONVERSATION_DETAILS, (conversation_id,)).fetchone()
        above = db.execute(_ANCESTORS, (message_id, conversation_id)).fetchall()
        if row is None or not above or above[-1][0] != row[5] or not all(r[1] for r in above):
            return None  # (not found, or off the path: a parent chose another child)
        below = [r[0] for r in db.execute(_CHOSEN_BELOW, (message_id, count + 1))]
        later = len(below) > count
        top = min(len(above), count + 1)
        if top == len(above) and not later:  # a short path: its other branches too
            return _whole(db, conversation_id)
        ids = [r[0] for r in above[top - 1 :: -1]] + below[:count]
        before = above[top][0] if top < len(above) else None
        return _part_of_path(db, row, before, ids, len(above) - top, later)


def _whole(db: sqlite3.Connection, conversation_id: int) -> PathPart | None:
    """The whole tree, when a part would not do (None: no such conversation)."""
    whole = read_conversation(db, conversation_id)
    return None if whole is None else PathPart(whole, whole=True)


def _part_of_path(
    db: sqlite3.Connection,
    row: Sequence[Any],
    before: int | None,
    ids: list[int],
    earlier: int,
    later: bool,
) -> PathPart | None:
    """The messages `ids` (a stretch of the path, `before` just above them) with their
    siblings, under the top of the conversation `row` (`CONVERSATION_DETAILS`); read
    whole if that is not the path they make (a stored choice not among the children)."""
    conversation_id = int(row[0])
    parents: Sequence[int | None] = [before, *ids[:-1]] if before is not None else ids[:-1]
    marks = ",".join("?" * len(parents))
    family = [
        r[0]
        for r in db.execute(
            f"SELECT id FROM messages WHERE parent_id IN ({marks}) AND conversation_id = ?",
            (*parents, conversation_id),
        )
    ]
    if before is None:  # the first is at the top: its siblings are the other first ones
        family += [
            r[0]
            for r in db.execute(
                "SELECT id FROM messages WHERE parent_id IS NULL AND conversation_id = ?",
                (conversation_id,),
            )
        ]
    family = sorted(set(family) | set(ids))
    tree = MessageRows()
    marks = ",".join("?" * len(family))
    tree.add(db.execute(MESSAGES_OF.format(marks), (conversation_id, *family)).fetchall())
    tree.close()
    for image in tree.images:
        load_image(db, image)
    conversation = conversation_of(row)
    place_messages(conversation, tree.by_id, tree.parent_ids)
    choose_again(conversation, tree.by_id, tree.chosen_ids, ids[0])
    if [message.id for message in conversation.messages] != ids:
        return _whole(db, conversation_id)
    return PathPart(conversation, earlier, later)
