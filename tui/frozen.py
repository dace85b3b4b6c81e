"""`@frozen`: a frozen dataclass to mypy, for less than the cost of defining one.

Defining a dataclass is costly when its module is imported: Python writes the source of
each method and compiles it (`__init__`, `__repr__`, `__eq__`, `__hash__`; with
`frozen=True` also `__setattr__` and `__delattr__`). tui-chat has some 50 such classes on
the way to the first frame or to `-p`'s first byte; compiling their methods was 20 of the
30 ms their definitions took, a tenth of what tui-chat's own imports cost.

So only `__init__` is compiled, since it runs for every event of a stream. Equality,
hashing and `repr` are shared functions that read a class's fields through one
`operator.attrgetter` (C code, as fast as the compiled methods), 0.45 ms a class down to
0.2 ms. They behave as the dataclass's own: equal when the class and every compared field
are equal, the hash of those fields, a `repr` that leaves out `field(repr=False)` (the API
key). The guard against assignment is kept where it is checked: mypy (run by CI) sees these
classes as frozen (`frozen_default`) and refuses an assignment to a field.
"""

from __future__ import annotations

import reprlib
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from operator import attrgetter
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
        # Set before `dataclass` runs: with `slots=True` it makes a new class from this
        # one's namespace, and it leaves a method the class has alone. A method the
        # class writes itself (a `__repr__` that hides something) stays its own.
        for name, shared in (("__eq__", _equal), ("__hash__", _hash), ("__repr__", _repr)):
            if name not in cls.__dict__ or (name == "__hash__" and cls.__dict__[name] is None):
                setattr(cls, name, shared)
        made: type = dataclass(cls, slots=slots, repr=False, eq=False)
        described: Any = made
        # Staticmethods: a plain function as a class attribute would be bound to the
        # instance it is read from.
        every = fields(made)
        described._compared = staticmethod(_values_of(f.name for f in every if f.compare))
        hashed = (f.name for f in every if (f.compare if f.hash is None else f.hash))
        described._hashed = staticmethod(_values_of(hashed))
        described._shown = tuple(f.name for f in every if f.repr)
        return made

    return define if cls is None else define(cls)


def _values_of(names: Any) -> Callable[[Any], tuple[Any, ...]]:
    """A function giving an instance's values of `names`, always as a tuple."""
    names = tuple(names)
    if not names:
        return lambda instance: ()
    if len(names) == 1:
        one = attrgetter(names[0])
        return lambda instance: (one(instance),)
    return attrgetter(*names)


def _equal(self: Any, other: Any) -> Any:
    if type(other) is not type(self):
        return NotImplemented
    return self._compared(self) == self._compared(other)


def _hash(self: Any) -> int:
    return hash(self._hashed(self))


@reprlib.recursive_repr()
def _repr(self: Any) -> str:
    shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._shown)
    return f"{self.__class__.__qualname__}({shown})"
