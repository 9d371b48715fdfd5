"""Data beside the stack: files (IDX, CSV, NPZ), named datasets, verified downloads,
preprocessing and splits.

    files.py       IDX, NPZ and CSV files, label encoding, train/validation splits
    npyfile.py     header checks for .npy/.npz before NumPy allocates what they declare
    datasets.py    the dataset registry and user files, as one Dataset
    download.py    downloads from mirrors, checked against a digest
    preprocess.py  scaling fitted on the training split, saved with the model
"""
