"""Data beside the stack: files (IDX, NPZ, CSV, Parquet), named datasets, verified downloads,
preprocessing and splits.

    files.py       IDX and NPZ files, label encoding, train/validation splits
    tables.py      CSV and Parquet files through pyarrow: columns of numbers, booleans, text
    columns.py     a table's columns as numbers (imputed, one-hot), fitted on training rows
    targets.py     label columns as classes or regression targets (--task)
    dataset.py     the Dataset every loader returns
    userdata.py    .npz files and tables as one Dataset
    npyfile.py     header checks for .npy/.npz before NumPy allocates what they declare
    datasets.py    the dataset registry and user files, as one Dataset
    download.py    downloads from mirrors, checked against a digest
    preprocess.py  scaling fitted on the training split, saved with the model
"""
