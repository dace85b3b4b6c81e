"""Deterministic, realistic Markdown replies split into token-sized deltas."""

from __future__ import annotations

import random

WORDS = (
    "the of and to in is that for it as with on be by this are from or an at which have not "
    "can but all more will their has one its also system data value function request response "
    "server client stream token buffer render screen terminal widget layout update frame "
    "latency memory process thread queue event handler cache index result error config option "
    "module package python markdown parser output input message chunk model network socket"
).split()


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(6, 16))]
    if rng.random() < 0.3:
        words[rng.randrange(len(words))] = f"`{rng.choice(WORDS)}()`"
    if rng.random() < 0.2:
        words[rng.randrange(len(words))] = f"**{rng.choice(WORDS)}**"
    return " ".join(words).capitalize() + rng.choice(".!?")


def _block(rng: random.Random, index: int) -> str:
    kind = index % 7
    if kind == 0:
        return "## " + " ".join(rng.choice(WORDS) for _ in range(4)).title()
    if kind == 1:
        return "\n".join(f"- {_sentence(rng)}" for _ in range(rng.randint(3, 5)))
    if kind == 3:
        body = [f"def handle_{rng.choice(WORDS)}(items, limit={rng.randint(2, 99)}):"]
        body += [f"    total = sum(x * {rng.randint(2, 9)} for x in items)", "    return total"]
        return "```python\n" + "\n".join(body) + "\n```"
    if kind == 5:
        rows = [
            f"| {rng.choice(WORDS)} | {rng.randint(1, 999)} | {rng.choice(WORDS)} |"
            for _ in range(rng.randint(3, 5))
        ]
        return "| name | value | note |\n|---|---|---|\n" + "\n".join(rows)
    return " ".join(_sentence(rng) for _ in range(rng.randint(2, 4)))


def markdown_tokens(count: int, seed: int = 1) -> list[str]:
    """`count` deltas of realistic Markdown, ending with a sentinel paragraph."""
    rng = random.Random(seed)
    pieces: list[str] = []
    index = 0
    while len(pieces) < count:
        text = _block(rng, index) + "\n\n"
        index += 1
        for word in text.split(" "):
            pieces.append(word + " ")
    pieces = pieces[: count - 1]
    pieces.append(f"\n\nENDMARK-{seed}\n")
    return pieces
