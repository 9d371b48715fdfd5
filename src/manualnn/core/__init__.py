"""The lecture, line for line: the network and its backward recurrence, activations,
losses, initializers, the two-layer closed form and the gradient check.

    network.py       MLP: forward Z_{i+1} = sigma_i(Z_i W_i + b_i), backward
                     D_i = G_{i+1} o sigma_i'(A_i), dW_i = Z_i^T D_i, G_i = D_i W_i^T
    activations.py   sigma and sigma', with the in-place layer hooks
    losses.py        each loss's value and G_{L+1} together
    initializers.py  seeded weight initializers
    two_layer.py     the two-layer closed form, as its two equations
    gradcheck.py     backward against finite differences, in float64
"""
