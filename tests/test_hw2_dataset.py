"""hw2's shipped dataset: the files, the fixed split and the standardization of load_data."""

import importlib.util

import numpy as np
import pytest
from bplab.layout import Assignment

pytestmark = pytest.mark.hw2

DATA_DIR = Assignment.named("hw2").data_dir


def _wdbc():
    """The shipped loader module, imported from its file (as the autograder does)."""
    spec = importlib.util.spec_from_file_location("hw2_wdbc_under_test", DATA_DIR / "wdbc.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _raw():
    table = np.loadtxt(DATA_DIR / "wdbc.csv", delimiter=",", skiprows=1)
    val_rows = np.loadtxt(DATA_DIR / "val_rows.txt", dtype=np.int64, comments="#")
    return table, val_rows


def test_csv_is_the_full_wdbc_table():
    table, _ = _raw()
    # WDBC as published: 569 cases, 30 features, 212 malignant / 357 benign, nothing missing.
    assert table.shape == (569, 31)
    assert np.all(np.isfinite(table))
    labels = table[:, -1]
    assert set(np.unique(labels)) == {0.0, 1.0}
    assert int(labels.sum()) == 212
    names = _wdbc().feature_names()
    assert len(names) == 30 and len(set(names)) == 30
    assert names[0] == "mean_radius" and names[-1] == "worst_fractal_dimension"


def test_split_is_a_stratified_partition():
    table, val_rows = _raw()
    assert len(val_rows) == len(set(val_rows.tolist())) == 113
    assert val_rows.min() >= 0 and val_rows.max() < len(table)
    labels = table[:, -1]
    val_share = labels[val_rows].mean()
    assert abs(val_share - labels.mean()) < 1 / len(val_rows)  # class balance kept to one row


def test_load_data_shapes_dtypes_and_determinism():
    wdbc = _wdbc()
    first = wdbc.load_data()
    second = wdbc.load_data(DATA_DIR)
    shapes = [(456, 30), (456, 1), (113, 30), (113, 1)]
    assert [a.shape for a in first] == shapes
    assert all(a.dtype == np.float64 for a in first)
    for a, b in zip(first, second, strict=True):
        assert np.array_equal(a, b)
    for y in (first[1], first[3]):
        assert set(np.unique(y)) == {0.0, 1.0}


def test_load_data_standardizes_with_training_statistics_only():
    table, val_rows = _raw()
    X_train, y_train, X_val, y_val = _wdbc().load_data()
    is_val = np.zeros(len(table), dtype=bool)
    is_val[val_rows] = True
    raw_train, raw_val = table[~is_val, :-1], table[is_val, :-1]
    np.testing.assert_allclose(X_train.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(X_train.std(axis=0), 1.0, rtol=1e-12)
    # The validation rows go through the training mean/std (not their own): invert and compare.
    mean, std = raw_train.mean(axis=0), raw_train.std(axis=0)
    np.testing.assert_allclose(X_val * std + mean, raw_val, rtol=1e-12, atol=1e-12)
    assert not np.allclose(X_val.mean(axis=0), 0.0, atol=1e-3)
    np.testing.assert_array_equal(y_train[:, 0], table[~is_val, -1])
    np.testing.assert_array_equal(y_val[:, 0], table[is_val, -1])


def test_notebook_loads_the_shipped_data_in_cells_graders_skip():
    import nbformat

    nb = nbformat.read(Assignment.named("hw2").notebook, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    loaders = [c for c in code if "from data.wdbc import load_data" in c.source]
    assert len(loaders) == 1
    # Only the setup cell and generated cells run at grading time; data, demos and plots don't.
    for cell in code[1:]:
        if "bplab" not in cell.metadata:
            assert "otter_ignore" in cell.metadata.get("tags", []), cell.source[:80]
    assert "otter_ignore" in loaders[0].metadata.get("tags", [])
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "CC BY 4.0" in text and "10.24432/C5DW2B" in text
