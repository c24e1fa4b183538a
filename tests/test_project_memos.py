"""Project's per-run memos stay bounded over many trees (issue 16: a run over ten copies of
site-packages held every tree's importer index in every worker), and an evicted entry is
recomputed to the same answer."""

from __future__ import annotations

from devicelint import project as project_module
from devicelint.project import Project

TREES = project_module.MAX_INDEXES + 4


def _tree(root, k: int) -> str:
    pkg = root / f"t{k}" / "pkg"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "lib.py").write_text("def pick(device):\n    return device\n")
    (pkg / "user.py").write_text("from pkg.lib import pick\n\nx = pick('cuda')\n")
    (pkg / "other.py").write_text("import os\n\npick = os.getcwd\n")  # mentions pick, imports no pkg.lib
    return str(pkg / "lib.py")


def test_importer_indexes_are_bounded_and_recomputed(tmp_path) -> None:
    project = Project()
    libs = [_tree(tmp_path, k) for k in range(TREES)]
    for lib in libs:
        module = project.module_at(lib)
        assert [m.path for m in project.importers(module, {"pick"})] == [lib.replace("lib.py", "user.py")]
        assert len(project._index) <= project_module.MAX_INDEXES
        assert len(project._files) <= project_module.MAX_INDEXES
    first = project.module_at(libs[0])
    assert [m.path for m in project.importers(first, {"pick"})] == [libs[0].replace("lib.py", "user.py")]


def test_import_lookups_are_bounded(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(project_module, "MAX_MEMO_ENTRIES", 3)
    project = Project()
    libs = [_tree(tmp_path, k) for k in range(6)]
    for lib in libs:
        user = project.module_at(lib.replace("lib.py", "user.py"))
        found = project.resolve(user, "pkg.lib.pick")
        assert found is not None and (found[0].path, found[1]) == (lib, ["pick"])
        assert len(project._by_name) <= 3
