"""The Wisconsin Diagnostic Breast Cancer data (WDBC) with hw2's fixed train/validation split.

Source: W. H. Wolberg, O. L. Mangasarian, N. Street, W. Street, "Breast Cancer Wisconsin
(Diagnostic)", UCI Machine Learning Repository (1995), doi:10.24432/C5DW2B, licensed CC BY 4.0.
The rows are the copy bundled with scikit-learn (``sklearn/datasets/data/breast_cancer.csv``),
relabelled so that 1 = malignant. See docs/datasets.md.

Files next to this module:
    wdbc.csv      header row, then 569 rows: 30 numeric features and the label ``malignant`` (0/1)
    val_rows.txt  the 0-based data rows held out for validation (113 rows, stratified by class)

This module is the only code that reads those files: the notebook and the autograder both
call ``load_data``, so students train and are graded on exactly the same arrays.
"""

from pathlib import Path

import numpy as np

DATA_DIR = Path(__file__).resolve().parent


def load_data(
    data_dir: str | Path | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Load the fixed split, features standardized with the training statistics.

    Args:
        data_dir: folder holding wdbc.csv and val_rows.txt (default: this module's folder).

    Returns:
        X_train (456, 30), y_train (456, 1), X_val (113, 30), y_val (113, 1), all float64.
        Labels are 1.0 (malignant) or 0.0 (benign). Each feature column of X_train has mean 0
        and standard deviation 1; X_val is shifted and scaled with the *training* mean and std,
        so nothing about the validation rows leaks into training.
    """
    folder = DATA_DIR if data_dir is None else Path(data_dir)
    table = np.loadtxt(folder / "wdbc.csv", delimiter=",", skiprows=1, dtype=np.float64)
    X, y = table[:, :-1], table[:, -1:]
    is_val = np.zeros(len(table), dtype=bool)
    is_val[np.loadtxt(folder / "val_rows.txt", dtype=np.int64, comments="#")] = True
    mean = X[~is_val].mean(axis=0)
    std = X[~is_val].std(axis=0)
    X = (X - mean) / std
    return X[~is_val], y[~is_val], X[is_val], y[is_val]


def feature_names(data_dir: str | Path | None = None) -> list[str]:
    """The 30 feature names, in column order (from wdbc.csv's header)."""
    folder = DATA_DIR if data_dir is None else Path(data_dir)
    with open(folder / "wdbc.csv") as f:
        return f.readline().strip().split(",")[:-1]
