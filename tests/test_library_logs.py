"""The library logs through `logging` and never prints: the CLI decides what to show."""

from __future__ import annotations

import ast
import json
import logging
from pathlib import Path

import forensics

REPO = Path(__file__).resolve().parent.parent
# The faces that write to the terminal on purpose.
FACES = {"cli.py", "output.py", "__main__.py", "schema.py", "coverage.py"}  # schema, coverage: their main()


def _prints(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    main_blocks = {
        id(n)
        for top in tree.body
        if isinstance(top, ast.If) and "__main__" in ast.unparse(top.test)
        for n in ast.walk(top)
    }
    lines = []
    for node in ast.walk(tree):
        if id(node) in main_blocks or not isinstance(node, ast.Call):
            continue
        text = ast.unparse(node.func)
        if text == "print" or text.startswith(("sys.stdout.", "sys.stderr.")):
            lines.append(node.lineno)
    return lines


def test_no_module_outside_the_cli_prints() -> None:
    library = [
        p
        for p in (REPO / "forensics").rglob("*.py")
        if "commands" not in p.relative_to(REPO / "forensics").parts
        and not (p.parent == REPO / "forensics" and p.name in FACES)
    ]
    assert library
    offenders = {str(p.relative_to(REPO)): lines for p in library if (lines := _prints(p))}
    assert offenders == {}


def test_load_problems_go_to_the_log_not_the_terminal(tmp_path, capsys, caplog) -> None:
    (tmp_path / "bad.json").write_text("{not json")
    (tmp_path / "ok.json").write_text(json.dumps({"Records": []}))
    with caplog.at_level(logging.WARNING, logger="forensics"), forensics.Case(tmp_path / "c.duckdb") as case:
        report = case.load([tmp_path / "bad.json", tmp_path / "ok.json"])
    assert report.rejected_files == 1
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""
    assert any("bad.json" in r.getMessage() and r.name == "forensics.case" for r in caplog.records)
