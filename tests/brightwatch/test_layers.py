"""One house: one import namespace (`brightwatch.*`), layers checked by import-linter's
contracts in pyproject.toml, and the README's "may import" table true of the code."""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGES = (
    "contract", "db", "mqttlink", "registry", "ingest", "elevators", "vision", "alerts",
    "api", "dashboards", "edge", "i18n",
)  # fmt: skip
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def python_files() -> list[Path]:
    skip = {".venv", ".git", "build", "node_modules", ".mypy_cache", ".ruff_cache"}
    out = []
    for dirpath, dirnames, filenames in os.walk(REPO):  # links not followed: each file once
        dirnames[:] = [d for d in dirnames if d not in skip and not d.startswith(".venv")]
        out += [Path(dirpath, f) for f in filenames if f.endswith(".py")]
    return out


def test_no_module_imports_the_old_bare_names() -> None:
    bare = []
    for path in python_files():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            bare += [
                f"{path.relative_to(REPO)}:{node.lineno} {n}"
                for n in names
                if n.split(".")[0] in PACKAGES
            ]
    assert not bare, "import brightwatch.<package>, not the bare name:\n" + "\n".join(bare)


def test_the_bare_names_are_not_importable_from_outside(tmp_path: Path) -> None:
    """pip install puts one top-level package into site-packages: brightwatch."""
    code = (
        "import importlib.util, brightwatch.ingest;"
        f"print([n for n in {PACKAGES!r} if importlib.util.find_spec(n)])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(cwd / "pyproject.toml"), "--no-cache"],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(cwd)},
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="needs import-linter (the dev lock)")
def test_the_layer_contracts_hold_and_a_bad_import_breaks_them(tmp_path: Path) -> None:
    ok = lint_imports(REPO)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    analysed = int(re.search(r"Analyzed (\d+) files", ok.stdout).group(1))  # type: ignore[union-attr]
    modules = len(grimp.build_graph("brightwatch").modules)
    assert analysed == modules > 200, (analysed, modules)  # every module is seen
    # the same tree with one domain module importing the shell
    copy = tmp_path / "repo"
    shutil.copytree(REPO / "brightwatch", copy / "brightwatch", symlinks=False)
    shutil.copy(REPO / "pyproject.toml", copy / "pyproject.toml")
    worker = copy / "brightwatch" / "ingest" / "worker.py"
    worker.write_text(worker.read_text() + "\nfrom brightwatch.runtime import Runtime  # noqa\n")
    bad = lint_imports(copy)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "brightwatch.ingest is not allowed to import brightwatch.runtime" in bad.stdout


def readme_table() -> dict[str, set[str]]:
    """package -> what the README's architecture table says it may import."""
    text = (REPO / "README.md").read_text()
    table = text[text.index("| package | job | may import |") :].split("\n\n")[0]
    allowed = {}
    for line in table.splitlines()[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        package = cells[0].strip("`/")
        words = set(re.findall(r"[a-z_0-9]+", cells[2]))
        if "everything" in words or "all" in words:
            words |= set(PACKAGES)
        allowed[package] = words & set(PACKAGES)
    return allowed


def test_the_readme_table_says_what_each_package_imports() -> None:
    allowed = readme_table()
    assert set(PACKAGES) <= set(allowed), sorted(set(PACKAGES) - set(allowed))
    graph = grimp.build_graph("brightwatch")
    wrong = {}
    for package in PACKAGES:
        imported = {
            other
            for other in PACKAGES
            if other != package
            and graph.direct_import_exists(
                importer=f"brightwatch.{package}",
                imported=f"brightwatch.{other}",
                as_packages=True,
            )
        }
        if imported - allowed[package]:
            wrong[package] = sorted(imported - allowed[package])
    assert not wrong, f"imports the README's table does not allow: {wrong}"


def test_mypy_sees_across_the_namespace() -> None:
    """A type error across packages is reported: mypy finds brightwatch.<name> through
    the links (an editable install's import hook would hide them from it)."""
    mypy = Path(sys.executable).with_name("mypy")
    if not mypy.exists():
        pytest.skip("needs mypy (the dev lock)")
    code = (
        "from brightwatch.contract.ids import is_valid_id\n"
        "from brightwatch.ingest.classify import TopicCache\n"
        "is_valid_id(3)\n"
        "TopicCache(root=7)\n"
    )
    out = subprocess.run(
        [str(mypy), "--no-incremental", "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 1, out.stdout + out.stderr
    assert '"is_valid_id" has incompatible type "int"; expected "str"' in out.stdout
    assert '"TopicCache" has incompatible type "int"; expected "str"' in out.stdout


def test_packaged_files_are_found_from_outside_the_repository(tmp_path: Path) -> None:
    """The console script runs from anywhere: migrations, templates and the catalogue are
    read through the brightwatch package, never through a top-level folder name."""
    code = (
        "from brightwatch.db.migrate import available_migrations;"
        "from brightwatch.i18n import translate;"
        "import brightwatch.api.web as web;"
        "print(len(available_migrations('native')), translate('zh-CN', 'Alerts'),"
        " (web.WEB / 'templates' / 'console.html').is_file())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    count, alerts, template = out.stdout.split()
    assert int(count) >= 19 and alerts != "Alerts" and template == "True", out.stdout
