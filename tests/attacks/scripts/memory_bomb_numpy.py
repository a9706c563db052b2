"""Attack: allocate and fill numpy arrays of 64 MiB each, up to 4 GiB."""
import numpy as np


def main():
    arrays = []
    for _ in range(64):
        arrays.append(np.ones(8 << 20, dtype=np.float64))
    return {"allocated_mib": 64 * len(arrays)}
