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
            if _opens_a_fence(line):
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
    """Whether `code_blocks` finds any. Asked at every move onto a reply (the footer
    offers "Copy code" only then): a reply with no fence written at all is answered by
    one search in C."""
    if "```" not in markdown and "~~~" not in markdown:
        return False
    return any(_opens_a_fence(line) for line in markdown.split("\n"))


def _opens_a_fence(line: str) -> bool:
    stripped = line.lstrip(" ")
    return len(line) - len(stripped) <= 3 and stripped[:3] in ("```", "~~~")
