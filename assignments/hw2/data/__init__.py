"""hw2's dataset, shipped next to the notebook: ``from data.wdbc import load_data``."""
