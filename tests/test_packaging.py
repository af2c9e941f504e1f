"""Installing the tracker: what pyproject.toml declares, the locks pin and the image uses.

The README's quick start itself is run by CI (.ci/run) exactly as written; these tests keep
the files it depends on consistent with each other.
"""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest

import tracker

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def canonical(name: str) -> str:
    """A distribution name as pip compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement: str) -> str:
    return canonical(re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0])


def pinned(lock: str) -> dict[str, str]:
    text = (ROOT / "requirements" / lock).read_text(encoding="utf-8")
    return {canonical(name): pin for name, pin in re.findall(r"^([\w.-]+)==(\S+)", text, re.M)}


@pytest.mark.parametrize(
    ("lock", "requirements"),
    [
        (
            "runtime.txt",
            PYPROJECT["project"]["dependencies"]
            + PYPROJECT["project"]["optional-dependencies"]["browser"],
        ),
        (
            "lock.txt",
            PYPROJECT["project"]["dependencies"]
            + PYPROJECT["project"]["optional-dependencies"]["test"]
            + PYPROJECT["project"]["optional-dependencies"]["browser"],
        ),
    ],
)
def test_each_lock_pins_every_declared_dependency(lock: str, requirements: list[str]) -> None:
    pins = pinned(lock)
    missing = sorted({requirement_name(r) for r in requirements} - set(pins))
    assert not missing, f"requirements/{lock} is stale (see requirements/README.md): {missing}"


def test_the_test_lock_agrees_with_the_runtime_lock() -> None:
    runtime, full = pinned("runtime.txt"), pinned("lock.txt")
    assert {name: full.get(name) for name in runtime} == runtime


def test_lxml_html_clean_is_declared_for_the_stock_pip_of_a_new_venv() -> None:
    # jusText asks for lxml[html_clean]; pip before 23.3 cannot match that to lxml's
    # "html-clean" extra, so without our own declaration extraction cannot even import.
    names = {requirement_name(r) for r in PYPROJECT["project"]["dependencies"]}
    assert "lxml-html-clean" in names
    import trafilatura  # noqa: F401  (fails with ImportError when it is missing)


def test_the_version_is_declared_once() -> None:
    assert "version" not in PYPROJECT["project"]
    assert PYPROJECT["project"]["dynamic"] == ["version"]
    assert PYPROJECT["tool"]["hatch"]["version"]["path"] == "tracker/__init__.py"
    assert version("tracker") == tracker.__version__


def test_the_image_installs_the_hash_checked_runtime_lock() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "pip install --require-hashes -r requirements/runtime.txt" in dockerfile
    assert "pip install --no-deps ." in dockerfile
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert "requirements" not in ignored and "requirements/runtime.txt" not in ignored


def test_test_helpers_stay_out_of_the_package() -> None:
    assert not (ROOT / "tracker" / "testing").exists()
    assert PYPROJECT["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"] == ["tracker"]
