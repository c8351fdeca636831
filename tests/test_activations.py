from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

from visrnn.inside.activations import ActivationDump, dump_activations, iter_activations
from visrnn.models.gates import ACTIVATIONS
from visrnn.models.recurrent import CharRNN, ModelConfig

VOCAB = 7
HIDDEN = 10  # with 4 units per column: blocks [0:4], [4:8], [8:10]
STEPS = 50


#: (model type, GRU variant): every recurrence the grid can train.
RECURRENCES = [("rnn", "paper"), ("lstm", "paper"), ("gru", "paper"), ("gru", "cudnn")]


def make_model(model_type: str, layers: int, seed: int = 0, variant: str = "paper") -> CharRNN:
    torch.manual_seed(seed)
    model = CharRNN(ModelConfig(model_type, VOCAB, HIDDEN, layers, gru_variant=variant))
    model.init_uniform(0.5)  # large weights: the state matters, so a reset state would show
    return model.eval()


def make_ids(steps: int = STEPS, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, VOCAB, size=steps).astype(np.uint8)


def reference(model: CharRNN, ids: np.ndarray) -> list[dict[str, np.ndarray]]:
    """``stepwise`` over the whole sequence in one call: (T, H) per layer and name."""
    _, _, activations = model.stepwise(torch.as_tensor(ids.astype(np.int64))[None])
    return [{name: value[0].numpy() for name, value in layer.items()} for layer in activations]


def write_dump(path: Path, model: CharRNN, ids: np.ndarray, **kwargs: int) -> ActivationDump:
    options = {"chunk": 7, "row_group": 8, "units_per_column": 4, **kwargs}
    dump_activations(model, ids, path, model_id="m1", vocab_sha256="vocab-a", **options)
    return ActivationDump(path)


@pytest.mark.parametrize(("model_type", "variant"), RECURRENCES)
@pytest.mark.parametrize("layers", [1, 2, 3])
def test_iter_activations_matches_stepwise_across_chunks(
    model_type: str, variant: str, layers: int
) -> None:
    model, ids = make_model(model_type, layers, variant=variant), make_ids()
    expected = reference(model, ids)
    threads = torch.get_num_threads()
    chunks = list(iter_activations(model, ids, chunk=7))
    assert torch.get_num_threads() == threads  # the one-thread recurrence restores the count
    assert [chunk[0]["h"].shape[1] for chunk in chunks] == [7] * 7 + [1]
    for layer in range(layers):
        for name in ACTIVATIONS[model_type]:
            got = torch.cat([chunk[layer][name] for chunk in chunks], dim=1)[0].numpy()
            np.testing.assert_allclose(got, expected[layer][name], rtol=1e-5, atol=1e-6)


def test_iter_activations_computes_only_the_names_asked_for() -> None:
    chunks = list(iter_activations(make_model("lstm", 2), make_ids(), chunk=16, names=["f"]))
    assert all(set(layer) == {"f"} for chunk in chunks for layer in chunk)
    with pytest.raises(ValueError, match=r"no activations \['z'\] in a lstm model"):
        next(iter_activations(make_model("lstm", 1), make_ids(), names=["z"]))


@pytest.mark.parametrize(("model_type", "variant"), RECURRENCES)
@pytest.mark.parametrize("layers", [1, 2, 3])
def test_dump_round_trip_equals_stepwise_in_float16(
    tmp_path: Path, model_type: str, variant: str, layers: int
) -> None:
    model, ids = make_model(model_type, layers, variant=variant), make_ids()
    dump = write_dump(tmp_path / "a.parquet", model, ids)
    expected = reference(model, ids)
    for layer in range(layers):
        for name in ACTIVATIONS[model_type]:
            got = dump.matrix(layer, name)
            assert got.shape == (STEPS, HIDDEN) and got.dtype == np.float32
            np.testing.assert_allclose(got, expected[layer][name], rtol=2**-10, atol=1e-6)
    np.testing.assert_array_equal(dump.inputs(), ids)


def test_metadata_schema_and_row_groups(tmp_path: Path) -> None:
    dump = write_dump(tmp_path / "a.parquet", make_model("lstm", 2), make_ids())
    assert (dump.model_id, dump.model_type, dump.layers, dump.hidden_size) == ("m1", "lstm", 2, 10)
    assert dump.names == ACTIVATIONS["lstm"]
    assert (dump.num_positions, dump.vocab_sha256) == (STEPS, "vocab-a")
    parquet = pq.ParquetFile(dump.path)
    schema = parquet.schema_arrow
    assert schema.field("position").type == pa.int32()
    assert schema.field("input").type == pa.uint16()
    assert schema.field("l1.c[8:10]").type == pa.list_(pa.float16(), 2)
    assert schema.field("l0.f[0:4]").type == pa.list_(pa.float16(), 4)
    assert len(schema) == 2 + 2 * 6 * 3
    groups = [parquet.metadata.row_group(i) for i in range(parquet.num_row_groups)]
    assert [group.num_rows for group in groups] == [8] * 6 + [2]
    assert {group.column(i).compression for group in groups for i in range(len(schema))} == {"ZSTD"}
    positions = parquet.read(columns=["position"]).column(0).to_numpy()
    np.testing.assert_array_equal(positions, np.arange(STEPS))


def test_trace_state_and_matrix_agree(tmp_path: Path) -> None:
    dump = write_dump(tmp_path / "a.parquet", make_model("gru", 2), make_ids())
    matrix = dump.matrix(1, "z")
    for unit in (0, 3, 4, 9):
        np.testing.assert_array_equal(dump.trace(1, "z", unit), matrix[:, unit])
        np.testing.assert_array_equal(dump.trace(1, "z", unit, 5, 30), matrix[5:30, unit])
    for position in (0, 7, 8, 49):
        np.testing.assert_array_equal(dump.state(position, 1, "z"), matrix[position])
    np.testing.assert_array_equal(dump.matrix(1, "z", 13, 27), matrix[13:27])
    assert dump.matrix(1, "z", 20, 20).shape == (0, HIDDEN)
    np.testing.assert_array_equal(dump.inputs(9, 12), make_ids()[9:12])


def test_reads_only_the_row_groups_and_columns_needed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dump = write_dump(tmp_path / "a.parquet", make_model("lstm", 2), make_ids())
    calls: list[tuple[list[int], list[str]]] = []
    original = dump._file.read_row_groups

    def spy(groups: list[int], columns: list[str]) -> pa.Table:
        calls.append((list(groups), list(columns)))
        return original(groups, columns=columns)

    monkeypatch.setattr(dump._file, "read_row_groups", spy)
    dump.trace(1, "c", 5, start=10, stop=20)  # rows 10..19: row groups 1 and 2
    dump.state(17, 0, "f")  # row group 2
    dump.matrix(1, "h", 48, 50)  # the last, short row group
    dump.trace(0, "i", 9, start=16, stop=24)  # exactly row group 2
    assert calls == [
        ([1, 2], ["l1.c[4:8]"]),
        ([2], ["l0.f[0:4]", "l0.f[4:8]", "l0.f[8:10]"]),
        ([6], ["l1.h[0:4]", "l1.h[4:8]", "l1.h[8:10]"]),
        ([2], ["l0.i[8:10]"]),
    ]


def test_chunk_and_row_group_sizes_do_not_change_values(tmp_path: Path) -> None:
    model, ids = make_model("lstm", 2), make_ids()
    small = write_dump(tmp_path / "a.parquet", model, ids, chunk=3, row_group=5)
    large = write_dump(tmp_path / "b.parquet", model, ids, chunk=100, row_group=64)
    for name in ("c", "f", "h"):
        np.testing.assert_allclose(small.matrix(1, name), large.matrix(1, name), atol=1e-3)


def test_vocab_mismatch_names_the_file(tmp_path: Path) -> None:
    dump = write_dump(tmp_path / "dump.parquet", make_model("rnn", 1), make_ids())
    dump.check_vocab("vocab-a")
    with pytest.raises(ValueError, match=r"dump\.parquet was dumped with another vocabulary"):
        dump.check_vocab("vocab-b")


def test_unknown_layer_name_unit_or_range_are_clear_errors(tmp_path: Path) -> None:
    dump = write_dump(tmp_path / "a.parquet", make_model("gru", 2), make_ids())
    with pytest.raises(ValueError, match="layer 2 out of range"):
        dump.trace(2, "z", 0)
    with pytest.raises(ValueError, match=r"no activation 'c' in a gru dump"):
        dump.matrix(0, "c")
    with pytest.raises(ValueError, match="unit 10 out of range"):
        dump.trace(0, "z", 10)
    with pytest.raises(ValueError, match="position 50 out of range"):
        dump.state(50, 0, "z")
    with pytest.raises(ValueError, match=r"range \[10, 60\)"):
        dump.matrix(0, "z", 10, 60)


def test_not_a_dump_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.parquet"
    pq.write_table(pa.table({"x": [1, 2]}), path)
    with pytest.raises(ValueError, match=r"other\.parquet is not a visrnn activation dump"):
        ActivationDump(path)


def test_bad_ids_and_failed_runs_leave_no_file(tmp_path: Path) -> None:
    model, path = make_model("lstm", 1), tmp_path / "a.parquet"
    with pytest.raises(ValueError, match=r"ids outside \[0, 7\)"):
        dump_activations(model, np.array([1, 7]), path, model_id="m", vocab_sha256="v")

    def failing_iter(*args: Any, **kwargs: Any) -> Iterator[list[dict[str, torch.Tensor]]]:
        chunks = iter_activations(*args, **kwargs)
        yield next(chunks)
        yield next(chunks)  # a row group has been written by now
        raise RuntimeError("killed")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("visrnn.inside.activations.iter_activations", failing_iter)
        with pytest.raises(RuntimeError, match="killed"):
            dump_activations(
                model, make_ids(), path, model_id="m", vocab_sha256="v", chunk=7, row_group=4
            )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "damage",
    [lambda data: data[: len(data) // 2], lambda data: b"garbage" * 50, lambda data: b""],
    ids=["truncated", "garbage", "empty"],
)
def test_an_unreadable_dump_names_the_file(tmp_path: Path, damage) -> None:
    path = tmp_path / "lstm-1L-x.parquet"
    write_dump(path, make_model("lstm", 1), make_ids())
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(ValueError) as refused:
        ActivationDump(path)
    assert str(refused.value).startswith(f"{path} is not a readable Parquet file")
    assert "delete it and run snakemake again" in str(refused.value)


def test_a_dump_of_another_model_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "lstm-3L-x.parquet"
    write_dump(path, make_model("lstm", 1), make_ids())  # model_id m1
    assert ActivationDump(path, "m1").model_id == "m1"
    with pytest.raises(ValueError, match=r"lstm-3L-x.parquet holds the activations of m1, not"):
        ActivationDump(path, "lstm-3L-x")
