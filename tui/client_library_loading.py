"""What `import openai` loads in this process: not what tui-chat never uses.

`import openai` took 0.6-0.7 s here, most of it for nothing a chat needs:
- openai imports its aiohttp transport whenever aiohttp is installed (textual-serve brings
  it): 0.1-0.2 s for a transport tui-chat never uses. It is marked absent before openai
  loads, so openai takes the fallback it has for aiohttp missing; aiohttp itself stays
  importable for whoever needs it.
- `openai.types` and its sub-packages re-export every model of the whole API, and their
  `__init__.py` files import 470 modules of pydantic models; a chat client uses 64 of them.
  `openai.lib` re-exports helpers that parse replies into pydantic models (20 ms), which
  the client's auth module imports with the package and a raw reader never uses.
  Such a package, whose `__init__.py` is nothing but `from .module import Name` lines, is
  loaded as a module that imports a name's module the first time the name is asked for
  (a module `__getattr__`, PEP 562). The names, the objects and the order they resolve in
  are the package's own; a package with any other statement loads as written.

- httpx2 asks `importlib.metadata` for its own version when it loads: importing that
  (zipfile, csv, the email parser) and the search took 15-18 ms. Its `__version__` module
  is read as a table of constants, and the version from the `Version:` line of httpx2's
  own `METADATA` file, which is what `importlib.metadata` reads. A module that does
  anything else, or a package with no single `.dist-info` beside it, loads as written.

All of these only change what loads and when; the requests are made by the official client as
it is. `tests/test_client_library_loading.py` checks every name against a plain import.
"""

from __future__ import annotations

import ast
import importlib
import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

UNUSED_TRANSPORT = "openai._vendor.httpx_aiohttp"
RE_EXPORTING = ("openai.types", "openai.lib")
VERSION_MODULES = {"httpx2.__version__": "httpx2"}
"""Modules that only ask `importlib.metadata` for a distribution's version: -> its name."""


def load_less_of_the_client_library() -> None:
    """Call before openai is imported; afterwards it changes nothing (a package already
    loaded stays as loaded)."""
    if "openai" in sys.modules:
        return
    sys.modules.setdefault(UNUSED_TRANSPORT, None)  # type: ignore[arg-type]  # None: absent
    if not any(isinstance(finder, _TypePackageFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _TypePackageFinder())


class _TypePackageFinder(importlib.abc.MetaPathFinder):
    """Finds `openai.types`, `openai.lib` and their sub-packages where Python would, and
    hands their loading to `_NamesOnFirstUse`; and `VERSION_MODULES`, whose loading goes
    to `_VersionFromMetadataFile`."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        distribution = VERSION_MODULES.get(fullname)
        if distribution is None and not any(
            fullname == root or fullname.startswith(root + ".") for root in RE_EXPORTING
        ):
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or not isinstance(spec.loader, importlib.machinery.SourceFileLoader):
            return None  # found and loaded as usual
        if distribution is not None:
            spec.loader = _VersionFromMetadataFile(spec.loader, distribution)
        elif spec.submodule_search_locations is not None:  # a package, not a module
            spec.loader = _NamesOnFirstUse(spec.loader)
        else:
            return None
        return spec


class _InsteadOfWritten(importlib.abc.Loader):
    """A loader standing in for a module's own (`written`), which it falls back on."""

    def __init__(self, written: importlib.machinery.SourceFileLoader) -> None:
        self.written = written

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self.written.create_module(spec)

    def get_resource_reader(self, fullname: str) -> Any:
        """The package's files, as its own loader reads them (`importlib.resources`)."""
        return self.written.get_resource_reader(fullname)


class _NamesOnFirstUse(_InsteadOfWritten):
    """Runs a re-exporting package's `__init__.py` as a table of which module each name
    comes from, and imports that module when the name is first read."""

    def exec_module(self, module: ModuleType) -> None:
        names = _re_exports(module.__name__, self.written.get_source(module.__name__) or "")
        if names is None:
            self.written.exec_module(module)
            return
        module.__dict__.update(
            __getattr__=_importer_of(module, names),
            __dir__=lambda: sorted({*module.__dict__, *names}),
            __all__=list(names),
        )


class _VersionFromMetadataFile(_InsteadOfWritten):
    """Runs a module of constants and `version("<distribution>")` with the version read
    from the distribution's `METADATA` file, without importing `importlib.metadata` (so
    the module has no `version` function of its own, which nothing reads)."""

    def __init__(self, written: importlib.machinery.SourceFileLoader, distribution: str) -> None:
        super().__init__(written)
        self.distribution = distribution

    def exec_module(self, module: ModuleType) -> None:
        source = self.written.get_source(module.__name__) or ""
        folder = Path(self.written.path).parent.parent  # site-packages, for a package's module
        values = _constants_and_version(source, self.distribution)
        version = _metadata_version(folder, self.distribution) if values is not None else None
        if values is None or version is None:
            self.written.exec_module(module)
            return
        module.__dict__.update({name: version if v is _VERSION else v for name, v in values})


_VERSION = object()
"""Marks the name assigned `version(...)` in `_constants_and_version`."""


def _constants_and_version(source: str, distribution: str) -> list[tuple[str, object]] | None:
    """The module's names and values, `_VERSION` for `version("<distribution>")`; None
    unless the module is exactly `from importlib.metadata import version` and such
    assignments."""
    names: list[tuple[str, object]] = []
    imports = 0
    for statement in ast.parse(source).body:
        if isinstance(statement, ast.ImportFrom):
            imports += 1
            if (
                statement.module != "importlib.metadata"
                or statement.level
                or [(alias.name, alias.asname) for alias in statement.names] != [("version", None)]
            ):
                return None
            continue
        if not (
            isinstance(statement, ast.Assign)
            and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Name)
        ):
            return None
        name, value = statement.targets[0].id, statement.value
        if isinstance(value, ast.Constant):
            names.append((name, value.value))
        elif (
            isinstance(value, ast.Call)
            and isinstance(value.func, ast.Name)
            and value.func.id == "version"
            and not value.keywords
            and [getattr(argument, "value", None) for argument in value.args] == [distribution]
        ):
            names.append((name, _VERSION))
        else:
            return None
    return names if imports == 1 and any(value is _VERSION for _, value in names) else None


def _metadata_version(folder: Path, distribution: str) -> str | None:
    """The `Version:` of `<distribution>-*.dist-info/METADATA` in `folder`, if there is
    exactly one such folder (else None: `importlib.metadata` decides)."""
    found = list(folder.glob(f"{distribution}-*.dist-info/METADATA"))
    if len(found) != 1:
        return None
    try:
        with found[0].open(encoding="utf-8") as metadata:
            for line in metadata:
                if line.startswith("Version:"):
                    return line.removeprefix("Version:").strip()
                if not line.strip():
                    return None  # the headers ended
    except (OSError, ValueError):  # unreadable, or not UTF-8
        return None
    return None


def _re_exports(package: str, source: str) -> dict[str, tuple[str, str | None]] | None:
    """Name -> (the module it comes from, its name there, or None for the module itself),
    or None when the package does anything else."""
    if not source:
        return None
    names: dict[str, tuple[str, str | None]] = {}
    for statement in ast.parse(source).body:
        if not isinstance(statement, ast.ImportFrom):
            return None
        if statement.module == "__future__":
            origin = "__future__"  # binds `annotations` too, as a plain import does
        elif statement.level == 1:
            origin = f"{package}.{statement.module}" if statement.module else package
        else:
            return None
        for alias in statement.names:
            if alias.name == "*":
                return None
            if origin == package:  # `from . import sibling`
                names[alias.asname or alias.name] = (f"{package}.{alias.name}", None)
            else:
                names[alias.asname or alias.name] = (origin, alias.name)
    return names


def _importer_of(package: ModuleType, names: dict[str, tuple[str, str | None]]) -> Any:
    def __getattr__(name: str) -> Any:
        if name not in names:
            # A plain import leaves every sibling it imported as an attribute
            # (`openai.types.chat`): the same sibling is imported now.
            if name.startswith("__"):
                raise AttributeError(name)
            try:
                return importlib.import_module(f"{package.__name__}.{name}")
            except ModuleNotFoundError as missing:
                if missing.name != f"{package.__name__}.{name}":
                    raise
                raise AttributeError(
                    f"module {package.__name__!r} has no attribute {name!r}"
                ) from None
        origin, original = names[name]
        if original is None:
            value = importlib.import_module(origin)
        else:
            value = getattr(__import__(origin, fromlist=[original]), original)
        setattr(package, name, value)
        return value

    return __getattr__
