"""Independent GOSPA test vectors for trilink-eval, computed with scipy's linear_sum_assignment.

This deliberately uses the textbook formulation, not trilink's decomposition into connected
components: one square cost matrix of size max(|X|, |Y|), real pairs cost min(d, c)^p, padding
costs c^p / alpha with alpha = 2 (Rahmathullah, Garcia-Fernandez, Svensson, Fusion 2017, eq. 1),
solved whole by scipy (a modified Jonker-Volgenant method, a different algorithm from the
Hungarian method trilink uses).

Regenerate (from the repository root):
    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install numpy scipy
    /tmp/venv/bin/python crates/eval/tests/data/gospa_scipy.py > crates/eval/tests/data/gospa_scipy_vectors.json
"""
import json

import numpy as np
import scipy
from scipy.optimize import linear_sum_assignment


def gospa(x, y, c, p):
    n, m = len(x), len(y)
    k = max(n, m)
    if k == 0:
        return dict(gospa=0.0, localisation=0.0, missed=0.0, false=0.0, n_missed=0, n_false=0)
    cost = np.full((k, k), c**p / 2.0)
    d = np.zeros((n, m))
    for i in range(n):
        for j in range(m):
            d[i, j] = np.linalg.norm(np.asarray(x[i]) - np.asarray(y[j]))
            cost[i, j] = min(d[i, j], c) ** p
    rows, cols = linear_sum_assignment(cost)
    loc, assigned = 0.0, 0
    for i, j in zip(rows, cols):
        if i < n and j < m and d[i, j] < c:
            loc += d[i, j] ** p
            assigned += 1
    n_missed, n_false = n - assigned, m - assigned
    missed, false = c**p / 2.0 * n_missed, c**p / 2.0 * n_false
    total = float(cost[rows, cols].sum())
    return dict(
        gospa=total ** (1.0 / p),
        localisation=loc,
        missed=missed,
        false=false,
        n_missed=n_missed,
        n_false=n_false,
    )


def main():
    rng = np.random.default_rng(20260522)
    cases = []
    for case in range(240):
        c = [5000.0, 1000.0, 20000.0][case % 3]
        p = [1.0, 1.0, 2.0, 3.0][case % 4]
        n = int(rng.integers(0, 9))
        m = int(rng.integers(0, 9))
        # Clustered points so that many pairs compete inside the cut-off, plus the odd far one.
        centres = rng.uniform(-2e6, 2e6, size=(2, 3)) + np.array([0.0, 0.0, 6.4e6])
        spread = c * [0.3, 1.0, 3.0][case % 3 if case % 7 else 2]

        def points(count):
            out = []
            for _ in range(count):
                centre = centres[int(rng.integers(0, 2))]
                out.append([round(float(v), 3) for v in centre + rng.normal(0.0, spread, 3)])
            return out

        x, y = points(n), points(m)
        cases.append(dict(c=c, p=p, truth=x, estimates=y, **gospa(x, y, c, p)))
    doc = dict(
        source="crates/eval/tests/data/gospa_scipy.py",
        scipy=scipy.__version__,
        numpy=np.__version__,
        cases=cases,
    )
    print(json.dumps(doc, indent=1))


if __name__ == "__main__":
    main()
