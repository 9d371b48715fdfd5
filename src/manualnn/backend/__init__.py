"""The array layer that the math calls: products into buffers, the BLAS calls NumPy has
no one-call form for, the compiled loops, workspaces and BLAS threads.

    ops.py         matmul into a buffer, a product added into its output, axpy, row sums,
                   buffers and the workspace cache
    blas.py        NumPy's own BLAS library called directly (gemm with beta, axpy)
    blas_loops.py  the numba wrappers of those calls
    kernels.py     compiled loops: Adam, a relu layer's two passes, softmax cross-entropy
    threads.py     how many BLAS threads, and which library runs them
"""
