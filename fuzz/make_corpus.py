"""Write valid starting inputs for every fuzz target: ``python fuzz/make_corpus.py DIR``
makes DIR/idx, DIR/npy, DIR/csv, DIR/png and DIR/model (DIR/cli needs none)."""

import gzip
import io
import os
import struct
import sys
import tempfile

import numpy as np


def _files(rng):
    from manualnn.core.network import MLP
    from manualnn.data.files import write_idx
    from manualnn.io.serialize import save_model

    out = {"idx": [], "npy": [], "csv": [], "png": [], "model": []}
    with tempfile.TemporaryDirectory() as tmp:
        for i, arr in enumerate([rng.integers(0, 256, (3, 4, 5), dtype=np.uint8),
                                 rng.integers(0, 10, 7).astype(np.uint8),
                                 rng.normal(size=(2, 3)).astype(np.float32)]):
            path = os.path.join(tmp, f"{i}.idx")
            write_idx(path, arr)
            with open(path, "rb") as f:
                raw = f.read()
            out["idx"] += [raw, gzip.compress(raw, mtime=0)]
        X, y = rng.normal(size=(6, 3)), np.array([0, 1, 2, 0, 1, 2])
        for save in (np.save, lambda f, a: np.savez(f, X=a, y=y),
                     lambda f, a: np.savez_compressed(f, X=a, y=y, X_test=a, y_test=y)):
            buf = io.BytesIO()
            save(buf, X)
            out["npy"].append(buf.getvalue())
        out["csv"] += [b"a,b,label\n1,2,x\n3,4,y\n5,6,x\n", b"\xef\xbb\xbfp,q\r\n1,0\r\n2,1\r\n"]
        from PIL import Image
        for mode, fmt in [("L", "PNG"), ("RGB", "PNG"), ("P", "GIF"), ("RGB", "BMP"),
                          ("RGB", "JPEG"), ("I;16", "PNG")]:
            img = Image.fromarray(rng.integers(0, 256, (6, 5, 3), dtype=np.uint8))
            buf = io.BytesIO()
            img.convert(mode).save(buf, fmt)
            out["png"].append(buf.getvalue())
        for layers in ([4, 3, 2], [4, 2]):
            folder = os.path.join(tmp, f"model{len(layers)}")
            meta = {"classes": ["a", "b"], "preprocess": "none", "image_shape": [2, 2]}
            save_model(folder, MLP(layers, rng=0), meta)
            with open(os.path.join(folder, "model.json"), "rb") as f:
                doc = f.read()
            with open(os.path.join(folder, "model.safetensors"), "rb") as f:
                weights = f.read()
            out["model"].append(struct.pack("<I", len(doc)) + doc + weights)
    return out


def main(root):
    for target, blobs in _files(np.random.default_rng(0)).items():
        os.makedirs(os.path.join(root, target), exist_ok=True)
        for i, blob in enumerate(blobs):
            with open(os.path.join(root, target, f"seed{i}"), "wb") as f:
                f.write(blob)
    os.makedirs(os.path.join(root, "cli"), exist_ok=True)
    print(f"seed inputs written under {root}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "fuzz-corpus")
