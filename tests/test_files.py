"""Atomic writes: nothing half-written, leftovers of killed writers cleared, and a read-only
folder named."""

from __future__ import annotations

from pathlib import Path

import pytest

from visrnn.common.files import atomic_path, read_json, read_table, write_csv, write_json


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


def test_a_table_reads_back_with_its_types_and_writes_back_the_same_bytes(tmp_path: Path) -> None:
    rows = [
        {
            "model": "lstm-1L-x",
            "n": 3,
            "loss": 0.1 + 0.2,
            "mean": float("nan"),
            "upper": 20,
            "flag": True,
            "char": "1",
            "note": 'a, "b"\nc',
        },
        {
            "model": "ngram-20",
            "n": 20,
            "loss": 1e-300,
            "mean": 0.5,
            "upper": None,
            "flag": False,
            "char": "2",
            "note": "",
        },
    ]
    columns = list(rows[0])
    write_csv(tmp_path / "a.csv", rows, columns)
    back = read_table(tmp_path / "a.csv")
    assert [row["n"] for row in back] == [3, 20]  # numbers, not strings
    assert back[0]["loss"] == 0.1 + 0.2 and back[1]["loss"] == 1e-300  # exact
    assert back[0]["mean"] != back[0]["mean"] and back[1]["mean"] == 0.5  # nan
    assert [row["upper"] for row in back] == [20, None]  # an int column with a gap stays int
    assert [row["flag"] for row in back] == [True, False]
    assert [row["char"] for row in back] == [1, 2]  # digits only: a number column
    assert [row["note"] for row in back] == ['a, "b"\nc', ""]  # text: empty stays ""
    write_csv(tmp_path / "b.csv", back, columns)
    assert (tmp_path / "b.csv").read_bytes() == (tmp_path / "a.csv").read_bytes()


def test_a_header_only_table_has_no_rows_and_a_damaged_one_is_named(tmp_path: Path) -> None:
    (tmp_path / "empty.csv").write_text("a,b\n")
    assert read_table(tmp_path / "empty.csv") == []
    (tmp_path / "bad.csv").write_text("a,b\n1,2,3\n")
    with pytest.raises(ValueError, match=r"bad\.csv is not a readable CSV table"):
        read_table(tmp_path / "bad.csv")
