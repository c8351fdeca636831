"""Atomic writes: nothing half-written, leftovers of killed writers cleared, and a read-only
folder named."""

from __future__ import annotations

from pathlib import Path

import pytest

from visrnn.common.files import atomic_path, read_json, write_json


def test_a_failed_write_leaves_the_old_file(tmp_path: Path) -> None:
    write_json(tmp_path / "a.json", {"v": 1})
    with pytest.raises(RuntimeError), atomic_path(tmp_path / "a.json") as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed")
    assert read_json(tmp_path / "a.json") == {"v": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json"]


def test_the_temporary_file_of_a_killed_writer_is_cleared(tmp_path: Path) -> None:
    (tmp_path / ".a.json.x1y2.tmp").write_text("left by SIGKILL")
    (tmp_path / ".b.json.x1y2.tmp").write_text("another target's")
    write_json(tmp_path / "a.json", {"v": 2})
    assert sorted(p.name for p in tmp_path.iterdir()) == [".b.json.x1y2.tmp", "a.json"]


def test_damaged_json_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "selection.json").write_text('{"model": ')
    with pytest.raises(ValueError, match=r"selection.json is not valid JSON .*delete it"):
        read_json(tmp_path / "selection.json")


def test_a_read_only_folder_is_named(tmp_path: Path, monkeypatch) -> None:
    # As root a chmod 555 folder stays writable: deny the write itself, as the kernel would.
    def denied(*args, dir: str, **kwargs):
        raise PermissionError(13, "Permission denied", str(Path(dir) / ".a.json.tmp"))

    monkeypatch.setattr("tempfile.mkstemp", denied)
    with pytest.raises(PermissionError, match=r"cannot write .*a.json: .*tmp.* not writable"):
        write_json(tmp_path / "a.json", {})
    assert not (tmp_path / "a.json").exists()
