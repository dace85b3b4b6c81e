"""Finds the fenced code blocks of a Markdown reply, so each can be copied on its own.

Copying takes the code exactly as the model wrote it, not the rendered (wrapped,
highlighted) lines, which is what a user pastes into an editor or a shell.
"""

from __future__ import annotations

from tui.frozen import frozen


@frozen
class CodeBlock:
    language: str
    code: str

    @property
    def line_count(self) -> int:
        return self.code.count("\n") + 1 if self.code else 0


def code_blocks(markdown: str) -> list[CodeBlock]:
    """Fenced blocks (``` or ~~~, any indent up to 3, longer closing fences allowed); an
    unclosed fence at the end (a reply cut off mid-block) still counts."""
    blocks: list[CodeBlock] = []
    fence = ""
    language = ""
    lines: list[str] = []
    for line in markdown.split("\n"):
        stripped = line.lstrip(" ")
        indent = len(line) - len(stripped)
        if not fence:
            if indent <= 3 and stripped[:3] in ("```", "~~~"):
                marker = stripped[0]
                fence = marker * (len(stripped) - len(stripped.lstrip(marker)))
                language = stripped[len(fence) :].strip().split(" ")[0]
                lines = []
            continue
        if indent <= 3 and stripped.startswith(fence) and not stripped.strip(fence[0]).strip():
            blocks.append(CodeBlock(language, "\n".join(lines)))
            fence = ""
            continue
        lines.append(line)
    if fence:
        blocks.append(CodeBlock(language, "\n".join(lines)))
    return blocks


def has_code_block(markdown: str) -> bool:
    """Whether `code_blocks` finds any. Asked for each of a reply's code keys at every
    move onto it (the footer offers "Copy code" only then), so it looks only where a fence
    marker is written, with searches in C: splitting a 138 KB reply into lines at each
    ask held a move for 39 ms."""
    for marker in ("```", "~~~"):
        at = markdown.find(marker)
        while at != -1:
            line_start = markdown.rfind("\n", 0, at) + 1
            if at - line_start <= 3 and not markdown[line_start:at].strip(" "):
                return True
            at = markdown.find(marker, at + 3)
    return False
