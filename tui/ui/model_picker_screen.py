"""F2: choose the model for this conversation from the server's list, fuzzy-filtered.

Servers without a model list (or unreachable ones) still get a working picker: whatever is
typed into the filter is used as the model name on Enter.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from tui.chat.safe_text import make_safe
from tui.model_filter import rank_models

ModelLister = Callable[[], Awaitable[list[str]]]


class ModelPickerScreen(ModalScreen[str | None]):
    BINDINGS = [
        Binding("escape", "dismiss(None)", "Close", id="models.close"),
        Binding("down", "focus_list", "List", show=False, id="models.list"),
    ]

    def __init__(self, current: str, list_models: ModelLister) -> None:
        super().__init__()
        self.current = current
        self._list_models = list_models
        self._models: list[str] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="models-panel"):
            yield Static(
                Content(f"Model for this conversation (now: {make_safe(self.current)})"),
                id="models-title",
            )
            yield Input(placeholder="Filter, or type any model name", id="models-filter")
            yield OptionList(id="models-options")
            yield Static("Loading the server's models…", id="models-hint")

    def on_mount(self) -> None:
        self.query_one(Input).focus()
        self._load()

    @work(exclusive=True, exit_on_error=False)
    async def _load(self) -> None:
        hint = self.query_one("#models-hint", Static)
        try:
            self._models = await self._list_models()
        except Exception as error:  # any failure: fall back to typing a name
            hint.update(Content(f"{make_safe(str(error))} — type a model name and press Enter."))
            return
        self._show(self.query_one(Input).value)

    @on(Input.Changed)
    def _filter(self, event: Input.Changed) -> None:
        self._show(event.value)

    def _show(self, query: str) -> None:
        options = self.query_one(OptionList)
        ranked, matched = rank_models(query, self._models)
        labels = []
        for name in ranked:
            label = Content(make_safe(name))
            if name == self.current:
                label = Content.assemble(label, ("  (current)", "dim"))
            labels.append(Option(label, id=name))
        options.clear_options()
        options.add_options(labels)
        if options.option_count:
            options.highlighted = 0
        if self._models:
            shown = f"{len(ranked)} of {matched}" if matched > len(ranked) else f"{matched}"
            hint = f"{shown} model{'' if matched == 1 else 's'}"
            if matched > len(ranked):
                hint += " (type to narrow)"
            self.query_one("#models-hint", Static).update(
                Content(f"{hint} · Enter picks · Esc closes")
            )

    @on(Input.Submitted)
    def _submit(self, event: Input.Submitted) -> None:
        options = self.query_one(OptionList)
        if options.highlighted is not None and options.option_count:
            self.dismiss(options.get_option_at_index(options.highlighted).id)
        elif event.value.strip():
            self.dismiss(event.value.strip())

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_focus_list(self) -> None:
        self.query_one(OptionList).focus()
