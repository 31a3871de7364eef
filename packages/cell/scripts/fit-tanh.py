"""Derives the kernel's tanh constants (assembly/math.ts): tanh x ~ x P(x^2) / Q(x^2) on [0, 9],
P and Q of degree 4 with P(0) = Q(0) = 1, fitted in float64 by linearised least squares
(x P - tanh(x) Q = tanh(x) - x, weighted by 1 / Q of the last round) with Lawson's reweighting
towards the smallest largest error; then checks the float32 evaluation the kernel does (Horner,
plain and fused multiply-adds) against tanh and the sigmoid against 1 / (1 + e^-x).
Run with any Python that has numpy: python3 scripts/fit-tanh.py
"""
import numpy as np

CLAMP = 9.0
TERMS = 5  # 1, z, z^2, z^3, z^4 in P and in Q


def fit(rounds=80):
    x = CLAMP * (1 - np.cos(np.linspace(0, np.pi / 2, 6000)))  # dense near 0
    x = np.concatenate([x, np.linspace(0, CLAMP, 6000)])[1:]
    y, z = np.tanh(x), x * x
    w, q = np.ones_like(x), np.ones_like(x)
    for r in range(rounds):
        cols = [x * z**i for i in range(1, TERMS)] + [-y * z**i for i in range(1, TERMS)]
        a = np.stack(cols, 1) * (w / q)[:, None]
        coef, *_ = np.linalg.lstsq(a, (y - x) * w / q, rcond=None)
        p, qq = np.concatenate([[1.0], coef[: TERMS - 1]]), np.concatenate([[1.0], coef[TERMS - 1 :]])
        q = sum(qq[i] * z**i for i in range(TERMS))
        err = np.abs(x * sum(p[i] * z**i for i in range(TERMS)) / q - y)
        if r > 10:
            w = w * (err / err.max()) ** 0.3 + 1e-15
            w /= w.mean()
    return p.astype(np.float32), qq.astype(np.float32), err.max()


def tanh32(x, p, q, fused):
    """The kernel's float32 evaluation (assembly/math.ts tanh4)."""
    c = np.clip(x, np.float32(-CLAMP), np.float32(CLAMP)).astype(np.float32)
    z = (c * c).astype(np.float32)

    def madd(a, b, d):
        if fused:
            return (a.astype(np.float64) * b + d).astype(np.float32)
        return ((a * b).astype(np.float32) + d).astype(np.float32)

    def horner(k):
        s = np.full_like(z, k[-1])
        for v in k[-2::-1]:
            s = madd(s, z, np.float32(v))
        return s

    return np.clip(((c * horner(p)).astype(np.float32) / horner(q)).astype(np.float32), -1, 1)


p, q, err = fit()
print('P:', ', '.join(repr(float(v)) for v in p[1:]))
print('Q:', ', '.join(repr(float(v)) for v in q[1:]))
print(f'float64 fit: largest error {err:.2e}')
x = np.linspace(-20, 20, 4_000_001).astype(np.float32)
t, s = np.tanh(x.astype(np.float64)), 1 / (1 + np.exp(-x.astype(np.float64)))
half = np.float32(0.5)
for fused in (False, True):
    y = tanh32(x, p, q, fused)
    sig = (half * tanh32((x * half).astype(np.float32), p, q, fused) + half).astype(np.float32)
    name = 'fused' if fused else 'plain'
    print(f'{name}: tanh within {np.abs(y - t).max():.2e}, sigmoid within {np.abs(sig - s).max():.2e}')
