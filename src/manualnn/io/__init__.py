"""Files of models and runs: model and checkpoint files, run folders and their pictures
(written through ``manualnn.atomic``).

    tensorfile.py the file format: named arrays in safetensors, a JSON document in its
                  header, read as hostile (never pickle); checkpoint files
    serialize.py  model files: a network and its extra arrays, the model document's rules
    rundir.py     the run folder: what a training writes, reads back and resumes
    checkpoint.py the checkpoint's metadata, checked field by field before a resume
    plots.py      learning curves and a confusion matrix (matplotlib, optional)
    report.py     a run's report as one self-contained HTML page (Jinja2, templates/)
    onnx_export.py  a network and its preprocessing as an ONNX graph (onnx, optional)
    onnx_columns.py a table's column encoding as ai.onnx.ml nodes (Imputer, OneHotEncoder)
"""
