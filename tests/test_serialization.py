"""Saving and loading MLP parameters as JSON, and the validation on load."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd_mini.nn import MLP


def values(model: MLP) -> list[float]:
    return [p.data for p in model.parameters()]


@given(
    st.integers(1, 4),
    st.lists(st.integers(1, 4), min_size=1, max_size=3),
    st.sampled_from(["sigmoid", "tanh", "relu", "linear"]),
    st.sampled_from(["sigmoid", "tanh", "relu", "linear"]),
    st.booleans(),
)
def test_dict_round_trip(nin: int, nouts: list[int], act: str, out_act: str, bias: bool) -> None:
    model = MLP(nin, nouts, activation=act, output_activation=out_act, bias=bias, seed=2)
    data = json.loads(json.dumps(model.to_dict()))
    clone = MLP.from_dict(data)
    assert (clone.nin, clone.nouts, clone.activations, clone.bias) == (nin, nouts, model.activations, bias)
    assert values(clone) == values(model)
    x = [0.1 * (i + 1) for i in range(nin)]
    out, again = model(x), clone(x)
    assert [o.data for o in (out if isinstance(out, list) else [out])] == [
        o.data for o in (again if isinstance(again, list) else [again])
    ]
    assert [p.label for p in clone.parameters()] == [p.label for p in model.parameters()]


def test_file_round_trip_and_load_into_model(tmp_path: Path) -> None:
    model = MLP(2, [3, 1], activation="tanh", seed=1)
    path = tmp_path / "model.json"
    model.save(path)
    assert json.loads(path.read_text())["format"] == "autograd_mini.MLP"
    assert values(MLP.load(path)) == values(model)
    other = MLP(2, [3, 1], activation="tanh", seed=99)
    other.layers[0].neurons[0].w[0].grad = 5.0
    other.load_parameters(path)
    assert values(other) == values(model)
    assert other.layers[0].neurons[0].w[0].grad == 0.0
    other2 = MLP(2, [3, 1], activation="tanh", seed=98)
    other2.load_parameters(model.to_dict())
    assert values(other2) == values(model)


def _corrupt(data: dict[str, Any], change: str) -> Any:
    data = copy.deepcopy(data)
    if change == "not a dict":
        return [data]
    if change == "missing key":
        del data["layers"]
    elif change == "extra key":
        data["optimizer"] = "adam"
    elif change == "wrong format":
        data["format"] = "pickle"
    elif change == "wrong version":
        data["version"] = 2
    elif change == "bool nin":
        data["nin"] = True
    elif change == "bad activation":
        data["activations"][0] = "softmax"
    elif change == "mixed hidden activations":
        data["nouts"] = [3, 3, 1]
        data["activations"] = ["tanh", "relu", "tanh"]
    elif change == "bias not bool":
        data["bias"] = 1
    elif change == "too few layers":
        data["layers"] = data["layers"][:1]
    elif change == "short weight row":
        data["layers"][0]["weights"][1] = data["layers"][0]["weights"][1][:1]
    elif change == "too many neurons":
        data["layers"][1]["weights"].append([0.0, 0.0, 0.0])
    elif change == "string weight":
        data["layers"][0]["weights"][0][0] = "0.5"
    elif change == "bool weight":
        data["layers"][0]["weights"][0][0] = True
    elif change == "nan weight":
        data["layers"][1]["weights"][0][2] = math.nan
    elif change == "inf bias":
        data["layers"][0]["biases"][2] = math.inf
    elif change == "null biases":
        data["layers"][0]["biases"] = None
    elif change == "missing biases key":
        del data["layers"][0]["biases"]
    elif change == "huge int weight":
        data["layers"][0]["weights"][0][0] = 10**400
    elif change == "nested weight":
        data["layers"][0]["weights"][0][1] = [1.0]
    return data


CHANGES = [
    "not a dict", "missing key", "extra key", "wrong format", "wrong version", "bool nin", "bad activation",
    "mixed hidden activations", "bias not bool", "too few layers", "short weight row", "too many neurons",
    "string weight", "bool weight", "nan weight", "inf bias", "null biases", "missing biases key", "nested weight",
    "huge int weight",
]  # fmt: skip


@pytest.mark.parametrize("change", CHANGES)
def test_invalid_data_raises_and_leaves_model_unchanged(change: str) -> None:
    model = MLP(2, [3, 1], activation="tanh", seed=1)
    target = MLP(2, [3, 1], activation="tanh", seed=2)
    before = values(target)
    bad = _corrupt(model.to_dict(), change)
    with pytest.raises(ValueError, match="model JSON"):
        target.load_parameters(bad)
    with pytest.raises(ValueError, match="model JSON"):
        MLP.from_dict(bad)
    assert values(target) == before


def test_architecture_mismatch_is_refused(tmp_path: Path) -> None:
    saved = MLP(2, [3, 1], seed=1).to_dict()
    target = MLP(2, [4, 1], seed=2)
    before = values(target)
    with pytest.raises(ValueError, match="does not match"):
        target.load_parameters(saved)
    assert values(target) == before


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("{not json", "not valid JSON"),
        ("", "not valid JSON"),
        ('{"nin": NaN}', "NaN"),
        ('{"nin": Infinity}', "Infinity"),
        ("[" * 100_000, "nested too deeply|not valid JSON"),
    ],
)
def test_files_that_are_not_strict_json(tmp_path: Path, text: str, match: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text)
    target = MLP(2, [3, 1], seed=2)
    before = values(target)
    with pytest.raises(ValueError, match=match):
        target.load_parameters(path)
    with pytest.raises(ValueError, match=match):
        MLP.load(path)
    assert values(target) == before


def test_binary_file_and_nan_written_by_hand(tmp_path: Path) -> None:
    path = tmp_path / "bin.json"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ValueError, match="not UTF-8|not valid JSON"):
        MLP.load(path)
    data = MLP(2, [1], seed=0).to_dict()
    text = json.dumps(data).replace(str(data["layers"][0]["weights"][0][0]), "NaN", 1)
    path.write_text(text)
    with pytest.raises(ValueError, match="NaN"):
        MLP.load(path)


def test_save_is_plain_json_not_pickle(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    MLP(1, [1], seed=0).save(path)
    data = json.loads(path.read_text())
    assert set(data) == {"format", "version", "nin", "nouts", "activations", "bias", "layers"}
    assert data["layers"][0].keys() == {"weights", "biases"}


# --- hostile model files (issue 19, item 7) -----------------------------------------------------
def test_an_endless_file_is_refused_after_a_bounded_read() -> None:
    from autograd_mini.nn.serialization import MAX_FILE_BYTES

    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero on this system")
    with pytest.raises(ValueError, match=rf"'/dev/zero' is larger than {MAX_FILE_BYTES // 2**20} MiB"):
        MLP.load("/dev/zero")


def test_an_integer_over_4300_digits_is_refused_naming_the_field(tmp_path: Path) -> None:
    data = MLP(2, [1], seed=0).to_dict()
    text = json.dumps(data).replace(repr(data["layers"][0]["weights"][0][1]), "7" * 5000, 1)
    path = tmp_path / "long.json"
    path.write_text(text)
    weight = r"layer 1, neuron 0, weight 1 must be finite, got <an integer of "
    with pytest.raises(ValueError, match=weight + "5000 digits>"):
        MLP.load(path)
    path.write_text(json.dumps(data).replace('"nin": 2', '"nin": ' + "1" * 5000))
    with pytest.raises(ValueError, match=r"'nin' must be a positive int, got <an integer of 5000 digits>"):
        MLP.load(path)
    # the same numbers handed over as Python ints
    data["layers"][0]["weights"][0][1] = 10**5000
    with pytest.raises(ValueError, match=weight + r"500\d digits>"):
        MLP.from_dict(data)


def deep_list(depth: int) -> list[Any]:
    x: list[Any] = []
    for _ in range(depth):
        x = [x]
    return x


@pytest.mark.parametrize("where", ["row", "weight", "nouts", "layers"])
def test_lists_nested_5000_deep_give_a_clear_error(where: str) -> None:
    data = MLP(1, [1], seed=0).to_dict()
    deep = deep_list(5000)
    if where == "row":
        data["layers"][0]["weights"] = [deep]
    elif where == "weight":
        data["layers"][0]["weights"][0][0] = deep
    else:
        data[where] = deep
    with pytest.raises(ValueError, match=r"\[\[\[\.\.\.\]\]\]"):
        MLP.from_dict(data)


def test_a_file_nested_deeply_gives_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    for depth in (900, 5000):  # below and above the parser's own recursion limit
        path.write_text("[" * depth + "]" * depth)
        with pytest.raises(ValueError, match="model JSON: .*(nested too deeply|expected an object)"):
            MLP.load(path)


@pytest.mark.parametrize("key", ["nin", "weights"])
def test_duplicate_keys_are_refused_naming_the_key(tmp_path: Path, key: str) -> None:
    text = json.dumps(MLP(2, [1], seed=0).to_dict())
    if key == "nin":
        text = text.replace('"nin": 2', '"nin": 2, "nin": 3')
    else:
        text = text.replace('"weights": ', '"weights": [[0.0, 0.0]], "weights": ')
    path = tmp_path / "dup.json"
    path.write_text(text)
    with pytest.raises(ValueError, match=rf"duplicate key '{key}'"):
        MLP.load(path)


def test_numpy_float32_weights_are_accepted_as_float64_are() -> None:
    np = pytest.importorskip("numpy")
    for dtype in (np.float64, np.float32, np.float16):
        model = MLP.from_weights([[[dtype(0.5), dtype(-0.25)]]], [[dtype(0.125)]])
        assert [p.data for p in model.parameters()] == [0.5, -0.25, 0.125]
        assert all(type(p.data) is float for p in model.parameters())
    data = MLP(2, [1], seed=0).to_dict()
    data["layers"][0]["weights"][0][0] = np.float32(0.75)
    assert MLP.from_dict(data).parameters()[0].data == 0.75
    data["layers"][0]["weights"][0][0] = np.float32("nan")
    with pytest.raises(ValueError, match="weight 0 must be finite"):
        MLP.from_dict(data)
