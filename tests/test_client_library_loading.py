"""openai loads what a chat uses, and every other name still resolves as openai defines it.

Each probe runs in a fresh interpreter: what a process has imported cannot be undone.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tui.client_library_loading import _constants_and_version, _metadata_version

DESCRIBE_EVERY_NAME = """
import json, sys
from pathlib import Path
{setup}
import importlib, openai, types
loaded_at_import = sum(m.startswith(("openai.types", "openai.lib")) for m in sys.modules)
top = Path(openai.__file__).parent
packages = sorted(
    "openai." + ".".join(p.parent.relative_to(top).parts)
    for root in ("types", "lib")
    for p in (top / root).rglob("__init__.py")
)
def describe(value):
    if isinstance(value, types.ModuleType):
        return "module " + value.__name__
    name = getattr(value, "__qualname__", None)
    return f"{{getattr(value, '__module__', None)}}.{{name}}" if name else repr(value)
names = {names}
described = {{}}
for package_name in packages:
    package = importlib.import_module(package_name)
    wanted = names[package_name] if names else [n for n in dir(package) if not n.startswith("_")]
    described[package_name] = {{n: describe(getattr(package, n)) for n in wanted}}
print(json.dumps({{"loaded_at_import": loaded_at_import, "packages": described}}))
"""


def run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_client_loads_without_the_api_models_a_chat_never_uses() -> None:
    """`import openai` imported 470 modules of models (every API's) and, with aiohttp
    installed, a transport tui-chat never uses: 0.3-0.45 s of a `-p` answer's start;
    `openai.lib` imported the helpers for parsing into pydantic models (20 ms)."""
    probe = (
        "import sys, tui.backend, openai; "
        "openai.AsyncOpenAI(api_key='k', base_url='http://127.0.0.1:9/v1'); "
        "print(sum(m.startswith('openai.types') for m in sys.modules), "
        "'aiohttp' in sys.modules, 'openai.lib._parsing' in sys.modules)"
    )
    type_modules, aiohttp_loaded, parsing_loaded = run(probe).split()
    assert int(type_modules) < 200
    assert aiohttp_loaded == "False"
    assert parsing_loaded == "False"


def test_every_name_resolves_to_what_a_plain_import_of_openai_gives() -> None:
    """The guard for a new openai release: every public name of `openai.types`,
    `openai.lib` and their sub-packages, read after a plain import, is the same object
    read through the packages that load names on first use."""
    plain = json.loads(run(DESCRIBE_EVERY_NAME.format(setup="", names="None")))
    wanted = {package: list(names) for package, names in plain["packages"].items()}
    deferred = json.loads(
        run(
            DESCRIBE_EVERY_NAME.format(
                setup="from tui.client_library_loading import load_less_of_the_client_library\n"
                "load_less_of_the_client_library()",
                names=repr(wanted),
            )
        )
    )
    assert deferred["loaded_at_import"] < plain["loaded_at_import"] / 4  # it was deferred
    assert len(wanted) > 20 and sum(map(len, wanted.values())) > 1000
    assert deferred["packages"] == plain["packages"]


def test_httpx2_reads_its_version_without_the_package_metadata_machinery() -> None:
    """httpx2 asks `importlib.metadata` for its own version, and that import (zipfile,
    csv, the email parser) and the search took 15-18 ms of `-p`'s first byte. The version,
    title and description are read as a plain import gives them."""
    describe = (
        "import importlib, sys; v = importlib.import_module('httpx2.__version__'); "
        "loaded = 'importlib.metadata' in sys.modules; "
        "import importlib.metadata; "
        "print(loaded, v.__title__, v.__description__, v.__version__, "
        "importlib.metadata.version('httpx2'))"
    )
    plain = run(describe).split()
    assert plain[0] == "True"  # the plain import does load it
    deferred = run(
        "from tui.client_library_loading import load_less_of_the_client_library; "
        "load_less_of_the_client_library(); " + describe
    ).split()
    assert deferred[0] == "False", "importlib.metadata was imported for httpx2's version"
    assert deferred[1:] == plain[1:]
    assert deferred[-2] == deferred[-1]


def test_a_version_module_of_any_other_shape_or_metadata_loads_as_written(tmp_path: Path) -> None:
    """The fast path is taken only for exactly the shape httpx2 has; anything else
    (a docstring, another import, a second or no `.dist-info`, no `Version:` header, a file
    that is not UTF-8) leaves httpx2's module to load as written."""
    shape = (
        'from importlib.metadata import version\n\n__title__ = "x"\n__version__ = version("x")\n'
    )
    assert _constants_and_version(shape, "x") is not None
    for other in (
        '"""Doc."""\n' + shape.replace('"x"', "'x'", 1),
        "import os\n" + shape,
        shape.replace("importlib.metadata", "importlib_metadata"),
        shape.replace('version("x")', 'version("y")'),
        shape + "__all__ = [__title__]\n",
    ):
        assert _constants_and_version(other, "x") is None, other
    (tmp_path / "x-1.0.dist-info").mkdir()
    metadata = tmp_path / "x-1.0.dist-info" / "METADATA"
    metadata.write_text("Metadata-Version: 2.1\r\nName: x\r\nVersion: 1.0\r\n\r\nVersion: 9\n")
    assert _metadata_version(tmp_path, "x") == "1.0"
    metadata.write_text("Metadata-Version: 2.1\nName: x\n\nVersion: 9\n")
    assert _metadata_version(tmp_path, "x") is None
    metadata.write_bytes(b"Name: \xff\nVersion: 1.0\n")
    assert _metadata_version(tmp_path, "x") is None
    metadata.write_text("Version: 1.0\n")
    (tmp_path / "x-2.0.dist-info").mkdir()
    (tmp_path / "x-2.0.dist-info" / "METADATA").write_text("Version: 2.0\n")
    assert _metadata_version(tmp_path, "x") is None
    assert _metadata_version(tmp_path, "y") is None
