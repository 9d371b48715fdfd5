"""Learn by doing: the checker that runs a learner's own backprop and names its mistake.

    variant.py     Variant: the shapes, sigma and seed the probes are built from
    driver.py      the child's side (standard library + NumPy only): call the learner's
                   functions on probes and record what came back
    runner.py      the parent's side: a child process with time and memory limits, an
                   import guard, and outcomes read back as plain arrays
"""
