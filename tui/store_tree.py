"""Reading a stored conversation back as a tree of messages made of parts: whole, or a
step at a time (taking messages already read, `tui.store_path_parts`, as they are)."""

from __future__ import annotations

import sqlite3
from collections.abc import Generator, Sequence
from typing import Any, TypeVar, cast

from tui.chat.conversation import Conversation
from tui.chat.images import ImagePart
from tui.chat.message import Message, MessageStatus, Role, Usage
from tui.chat.parts import ToolOutcome, ToolResultPart, part_of_kind
from tui.chat.tool_choices import ToolChoices
from tui.gc_tuning import collection_paused

_ROLES = {role.value: role for role in Role}
_STATUSES = {status.value: status for status in MessageStatus}
"""Looked up, not called: `Role(value)` per row was a quarter of reading 20,000 messages."""

_MESSAGES_WITH_PARTS = (
    "SELECT m.id, m.parent_id, m.chosen_child_id, m.role, m.status, m.error,"
    " m.finish_reason, m.model, m.prompt_tokens, m.completion_tokens,"
    " m.time_to_first_token, m.duration, m.created_at, p.position, p.kind, p.text"
    " FROM messages m LEFT JOIN message_parts p ON p.message_id = m.id"
    " WHERE m.conversation_id = ? ORDER BY m.id, p.position, p.id"
)
"""Each message's row once per part (once with no part), in the indexes' order: no sort.
The message's columns come first (read by position in `MessageRows.add`), the part's last.
One query, not one for the messages and one for their parts: over 20,000 messages the
second walked the same index again (20-40 ms)."""
MESSAGES_OF = _MESSAGES_WITH_PARTS.replace(
    "m.conversation_id = ?", "m.conversation_id = ? AND m.id IN ({})"
)
"""The same, for the messages of the ids given."""
_PART_POSITION, _PART_KIND, _PART_TEXT = 13, 14, 15
ROWS_PER_STEP = 250
"""Rows read and built in one step of a read in steps: 2-3 ms, what a key can wait."""


def read_conversation(db: sqlite3.Connection, conversation_id: int) -> Conversation | None:
    """The conversation with every message on every branch, each under its parent, each
    parent's chosen child chosen again; a reply left streaming by a dead process comes
    back whole (its pieces joined) and marked interrupted."""
    with collection_paused():
        return run_to_the_end(conversation_in_steps(db, conversation_id, rows_per_step=None))


def conversation_in_steps(
    db: sqlite3.Connection,
    conversation_id: int,
    rows_per_step: int | None = ROWS_PER_STEP,
    *,
    known: Conversation | None = None,
) -> Generator[None, None, Conversation | None]:
    """`read_conversation` a step of `rows_per_step` rows at a time (None: all at once),
    for an event loop to run between its turns: a read ahead in a thread of its own took
    turns with the loop at Python's lock, and the user's typing stalled up to twice as
    long meanwhile. Closing it midway ends the read.

    The messages of `known` (a part of the path, read first: `tui.store_path_parts`) are
    taken as they are, the same objects in the whole tree: the views on screen stay theirs.
    They are put in their places in the last step, all at once, so that what is on
    screen meanwhile sees the tree it was read in."""
    row = db.execute(CONVERSATION_DETAILS, (conversation_id,)).fetchone()
    if row is None:
        return None
    cursor = db.execute(_MESSAGES_WITH_PARTS, (conversation_id,))
    tree = MessageRows({m.id: m for m in known.all_messages()} if known is not None else {})
    if rows_per_step is None:
        tree.add(cursor.fetchall())
    else:
        while rows := cursor.fetchmany(rows_per_step):
            tree.add(rows)
            yield
    tree.close()
    for image in tree.images:  # each image's bytes, a step each (they may be megabytes)
        load_image(db, image)
        if rows_per_step is not None:
            yield
    conversation = conversation_of(row)
    for message in tree.reused:
        message.parent, message.children, message.chosen = None, [], None
    place_messages(conversation, tree.by_id, tree.parent_ids)
    if rows_per_step is not None and known is None:
        yield  # (placing and choosing: 3-4 ms each over 20,000 messages)
    choose_again(conversation, tree.by_id, tree.chosen_ids, row[5])
    return conversation


CONVERSATION_DETAILS = (
    "SELECT id, title, model, system_prompt, created_at, chosen_root_id, tool_choices"
    " FROM conversations WHERE id = ?"
)


def conversation_of(row: Sequence[Any]) -> Conversation:
    """A conversation's details (`CONVERSATION_DETAILS`), with no messages yet."""
    conversation = Conversation(
        id=int(row[0]), title=row[1], model=row[2], system_prompt=row[3], created_at=row[4]
    )
    conversation.tools = ToolChoices.from_text(row[6])
    return conversation


_Result = TypeVar("_Result")


def run_to_the_end(steps: Generator[None, None, _Result]) -> _Result:
    """Runs every step of a read in steps, at once."""
    while True:
        try:
            next(steps)
        except StopIteration as end:
            return cast(_Result, end.value)


class MessageRows:
    """Each message with its parts, built from rows as they come (a part saved in pieces
    as it streamed has several rows at one position, joined here; only text and reasoning
    are saved in pieces): by id in id order, with the ids of each one's parent and chosen
    child in that order, and the image parts, whose bytes are read apart."""

    def __init__(self, known: dict[int | None, Message] | None = None) -> None:
        self.known = known or {}
        """Messages already read whole, taken as they are (their rows skipped)."""
        self.reused: list[Message] = []
        self.by_id: dict[int, Message] = {}
        self.parent_ids: list[int | None] = []
        self.chosen_ids: list[int | None] = []
        self.images: list[ImagePart] = []
        self._message: Message | None = None
        self._position: int | None = None
        self._kind = ""
        self._texts: list[str] = []
        """The pieces of the part being read."""
        self._reusing = False
        """Whether the message being read is a known one (its rows skipped)."""

    def add(self, rows: Sequence[Sequence[Any]]) -> None:
        """Builds from the next rows (`_MESSAGES_WITH_PARTS`), which may end in the middle
        of a message or of a part: what is left open is carried to the next call."""
        by_id, images, known, reusing = self.by_id, self.images, self.known, self._reusing
        message, position, kind, texts = self._message, self._position, self._kind, self._texts
        for r in rows:
            if message is None or r[0] != message.id:
                if message is not None:
                    _add_part(message, kind, texts, images)
                    _finish(message)
                reusing = (message := known.get(r[0])) is not None
                if message is None:
                    status = _STATUSES.get(r[4]) or MessageStatus(r[4])  # (a bad value raises)
                    message = Message(
                        _ROLES.get(r[3]) or Role(r[3]),
                        id=r[0],
                        status=MessageStatus.INTERRUPTED
                        if status is MessageStatus.STREAMING
                        else status,
                        error=r[5],
                        finish_reason=r[6],
                        model=r[7],
                        usage=Usage(r[8], r[9]) if r[8] is not None and r[9] is not None else None,
                        time_to_first_token=r[10],
                        duration=r[11],
                        created_at=r[12],
                    )
                else:
                    self.reused.append(message)
                by_id[r[0]] = message
                self.parent_ids.append(r[1])
                self.chosen_ids.append(r[2])
                position, kind, texts = None, "", []
            if r[_PART_KIND] is None or reusing:
                continue  # no parts (a reply stopped before its first token), or known
            if r[_PART_POSITION] == position:
                texts.append(r[_PART_TEXT])  # the next piece of the same part
                continue
            _add_part(message, kind, texts, images)
            position, kind, texts = r[_PART_POSITION], r[_PART_KIND], [r[_PART_TEXT]]
        self._message, self._position, self._kind, self._texts = message, position, kind, texts
        self._reusing = reusing

    def close(self) -> None:
        """The last message read is whole."""
        if self._message is not None:
            _add_part(self._message, self._kind, self._texts, self.images)
            _finish(self._message)
        self._message, self._texts = None, []


def _add_part(message: Message, kind: str, texts: list[str], images: list[ImagePart]) -> None:
    """The part read so far, if any; a kind this version does not know is skipped."""
    if not texts:
        return
    part = part_of_kind(kind, texts[0] if len(texts) == 1 else "".join(texts))
    if part is not None:
        message.parts.append(part)
        if isinstance(part, ImagePart):
            images.append(part)


def _finish(message: Message) -> None:
    """A reply whose process died while a tool ran: each unanswered call is answered as
    interrupted, so the next request is one the API accepts."""
    if message.status is MessageStatus.INTERRUPTED:
        for call in message.unanswered_calls():
            message.parts.append(ToolResultPart(call.call_id, ToolOutcome.INTERRUPTED))


def place_messages(
    conversation: Conversation, by_id: dict[int, Message], parent_ids: list[int | None]
) -> None:
    """Puts each message under its parent: children oldest first, in id order, whatever
    order the parents were written in."""
    root = conversation.root
    for message, parent_id in zip(by_id.values(), parent_ids, strict=True):
        parent = by_id.get(parent_id) if parent_id is not None else None
        message.parent = parent or root
        message.parent.children.append(message)


def choose_again(
    conversation: Conversation,
    by_id: dict[int, Message],
    chosen_ids: list[int | None],
    chosen_root_id: int | None,
) -> None:
    """Chooses each parent's chosen child again; one stored that is not among its
    children gives way to the newest child."""
    root = conversation.root
    parents = [root, *by_id.values()]
    for parent, chosen_id in zip(parents, [chosen_root_id, *chosen_ids], strict=True):
        if parent.children:
            chosen = by_id.get(chosen_id) if chosen_id is not None else None
            parent.chosen = (
                chosen if chosen is not None and chosen.parent is parent else parent.children[-1]
            )


def load_image(db: sqlite3.Connection, image: ImagePart) -> None:
    """Gives an image part its bytes (stored once, by digest)."""
    row = db.execute("SELECT data FROM blobs WHERE digest = ?", (image.digest,)).fetchone()
    image.data = bytes(row[0]) if row is not None else b""
