"""meshstack installs as a library: one top-level package, from the repository or from its wheel,
and a platform team's own program (examples/platform-team) composes the mesh from it."""

from __future__ import annotations

import zipfile
from pathlib import Path

from tests.library import ROOT, TeamProject, new_venv, sh


def test_the_wheel_holds_one_top_level_package(team: TeamProject) -> None:
    names = zipfile.ZipFile(team.wheel).namelist()
    top = {name.split("/", 1)[0] for name in names}
    assert top == {"meshstack", f"{team.wheel.name.split('-py3')[0]}.dist-info"}
    # The root folders arrive as subpackages, with their code (no second copy in the repository).
    for module in (
        "meshstack/components/platform.py",
        "meshstack/stacks/program.py",
        "meshstack/apps/bookinfo/__init__.py",
    ):
        assert module in names
    assert (ROOT / "meshstack" / "components").is_symlink()


def test_the_team_program_composes_the_mesh_from_the_wheel(team: TeamProject) -> None:
    where = sh([str(team.python), "-c", "import meshstack; print(meshstack.__file__)"], cwd=team.dir).stdout
    assert str(team.dir / "venv") in where and str(ROOT) not in where
    done = sh([str(team.python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], cwd=team.dir)
    assert "1 passed" in done.stdout


def test_pip_install_of_the_repository_works(tmp_path: Path) -> None:
    python = new_venv(tmp_path / "venv")
    sh([str(python), "-m", "pip", "install", "--quiet", str(ROOT)], cwd=tmp_path)
    code = (
        "import importlib.metadata as md, meshstack.components as c, meshstack.model as m;"
        "print(sorted({f.parts[0] for f in md.files('meshstack') if f.parts[0] != '..' and not f.parts[0].endswith('.dist-info')}));"
        "print(c.MeshPlatform.__name__, c.MeshApp.__name__, m.StackSpec.__name__)"
    )
    out = sh([str(python), "-c", code], cwd=tmp_path).stdout.splitlines()
    assert out == ["['meshstack']", "MeshPlatform MeshApp StackSpec"]
    # … and the command line (meshstack rollout …) on the virtualenv's PATH.
    help_text = sh([str(tmp_path / "venv" / "bin" / "meshstack"), "rollout", "--help"], cwd=tmp_path).stdout
    assert "run" in help_text and "promote" in help_text
