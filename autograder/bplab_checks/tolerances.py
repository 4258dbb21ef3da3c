"""Tolerances and input conventions of every check (the one place they are set)."""

# Analytic gradient vs float64 central differences (h = 1e-6): the truncation and rounding
# error is about 1e-9 relative, any real mistake is far above 1e-6.
GRAD_RTOL = 1e-6

# Random directions per input in the public directional gradient checks: each costs two calls
# of the student's function, and a wrong gradient fails along (almost) any one of them.
N_DIRECTIONS = 5

# Student value vs reference value: both analytic, so only rounding separates correct
# formulations (observed <= 1e-12, e.g. stable vs naive sigmoid, einsum vs @).
REF_RTOL = 1e-7

# Random check inputs are moved at least this far from 0 so that central differences never
# straddle the kink of ReLU-like blocks; 0 itself is tested on its own.
NUDGE = 0.1

# Magnitude of the inputs of the numerical-stability checks (the contract's promise).
LARGE = 1000.0
