"""Students for the course's tests and benchmark: hand-written submissions as source text.

Each entry is the text of one function in a learner's style; a submission is a few of
them joined (``submission``).  The wrong ones each carry one well-known mistake.
"""

RIGHT_SOFTMAX_LOSS = '''\
import numpy as np


def softmax_loss(Z, y):
    Z = Z - Z.max(axis=1, keepdims=True)
    log_sum = np.log(np.exp(Z).sum(axis=1))
    return np.mean(log_sum - Z[np.arange(Z.shape[0]), y])
'''
