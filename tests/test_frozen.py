"""`@frozen` classes behave as the dataclasses they stand for: equality, hashing, `repr`
(which leaves out what is marked `repr=False`, such as the API key), `replace` and
pattern matching; their shared methods must not lose any of that."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import pytest

from tui.config import Settings
from tui.frozen import frozen


@frozen
class Nothing:
    pass


@frozen(slots=True)
class One:
    name: str


@frozen
class Several:
    name: str
    size: int = 0
    secret: str = field(default="", repr=False)
    note: str = field(default="", compare=False)


@frozen(slots=True)
class More(One):
    extra: int = 1


@dataclass(frozen=True)
class SeveralAsDataclass:
    name: str
    size: int = 0
    secret: str = field(default="", repr=False)
    note: str = field(default="", compare=False)


@frozen
class Box:
    inside: list[object]


@pytest.mark.parametrize(
    ("left", "right", "equal"),
    [
        (Nothing(), Nothing(), True),
        (One("a"), One("a"), True),
        (One("a"), One("b"), False),
        (Several("a", 1, "s"), Several("a", 1, "s", note="other"), True),
        (Several("a", 1), Several("a", 2), False),
        (Several("a", 1, "s"), Several("a", 1, "t"), False),
        (More("a", 2), More("a", 2), True),
        (More("a", 2), More("a", 3), False),
        (More("a", 1), One("a"), False),
        (One("a"), "a", False),
    ],
)
def test_equal_and_hashed_as_the_dataclass_would_be(
    left: object, right: object, equal: bool
) -> None:
    assert (left == right) is equal
    assert (left != right) is not equal
    if equal:
        assert hash(left) == hash(right)


def test_repr_is_the_dataclass_repr_without_what_is_not_shown() -> None:
    made = Several("a", 2, "sk-secret", "n")
    twin = SeveralAsDataclass("a", 2, "sk-secret", "n")
    assert repr(made) == repr(twin).replace("SeveralAsDataclass", "Several")
    assert repr(More("a", 3)) == "More(name='a', extra=3)"
    assert repr(Nothing()) == "Nothing()"
    box = Box([])
    box.inside.append(box)
    assert repr(box) == "Box(inside=[...])"


def test_settings_never_show_the_api_key() -> None:
    settings = Settings(model="m", api_key="sk-very-secret")
    assert "sk-very-secret" not in repr(settings)
    assert "sk-very-secret" not in str(settings)
    assert replace(settings, model="n").api_key == "sk-very-secret"


def test_replace_slots_and_pattern_matching_still_work() -> None:
    changed = replace(More("a", 1), extra=5)
    assert changed == More("a", 5)
    assert not hasattr(changed, "__dict__")
    match changed:
        case More(name, extra):
            assert (name, extra) == ("a", 5)
        case _:
            pytest.fail("no match")


@frozen
class Hiding:
    name: str
    token: str = field(default="", hash=False)

    def __repr__(self) -> str:
        return f"Hiding({self.name!r}, token hidden)"


def test_a_repr_the_class_writes_stays_and_hash_false_is_left_out() -> None:
    made = Hiding("a", "sk-secret")
    assert repr(made) == "Hiding('a', token hidden)"
    assert hash(made) == hash(Hiding("a", "other"))
    assert made != Hiding("a", "other")
