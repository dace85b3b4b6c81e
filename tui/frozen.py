"""`@frozen`: a frozen dataclass to mypy, for less than the cost of defining one.

`@dataclass(frozen=True)` makes Python write and compile two more methods for every class
(`__setattr__`, `__delattr__`) when its module is imported: 1.05 ms a class here, against
0.66 ms without them. tui-chat has 44 such classes, most of them on the way to the first
frame or to `-p`'s first byte. The guard they add at run time is kept where it is checked:
mypy (run by CI) sees these classes as frozen (`frozen_default`) and refuses an assignment
to a field. Equal values hash equal, as frozen ones do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar, dataclass_transform, overload

_Class = TypeVar("_Class", bound=type)


@overload
def frozen(cls: _Class, /) -> _Class: ...
@overload
def frozen(*, slots: bool = False) -> Callable[[_Class], _Class]: ...
@dataclass_transform(frozen_default=True, field_specifiers=(field,))
def frozen(cls: Any = None, /, *, slots: bool = False) -> Any:
    """`@frozen` or `@frozen(slots=True)`, where `@dataclass(frozen=True)` was."""

    def define(cls: type) -> type:
        return dataclass(cls, slots=slots, unsafe_hash=True)

    return define if cls is None else define(cls)
