"""Kronecker forms of matrix functions from the eigendecomposition (divided differences).

Where X = V Λ V⁻¹ with V well conditioned, L_f(X, E) = V (Φ ∘ (V⁻¹ E V)) V⁻¹ with
Φᵢⱼ = f[λᵢ, λⱼ], the divided difference (f'(λᵢ) where λᵢ = λⱼ), so that
K_f(X) = (V⁻ᵀ ⊗ V) diag(vec Φ) (Vᵀ ⊗ V⁻¹) (Higham, *Functions of Matrices*, Thm 3.11;
the Daleckiĭ–Kreĭn theorem). Its n⁴ entries come from one contraction of n⁵ operations,
against n² Fréchet derivatives of n³ each; where V is ill conditioned (X near a defective
matrix) the caller computes the columns one by one instead.
"""

from __future__ import annotations

import numpy as np

V_CONDITION_LIMIT = 1e3  # beyond, the eigenvectors lose the digits the product needs
ROWS_AT_ONCE = 2**22  # complex entries of the product formed at a time


def expm_differences(w: np.ndarray) -> np.ndarray:
    """Φᵢⱼ = (e^{λᵢ} - e^{λⱼ}) / (λᵢ - λⱼ), as e^{λⱼ} (e^{λᵢ - λⱼ} - 1) / (λᵢ - λⱼ) without
    cancellation, e^{λᵢ} where they are equal."""
    z = w[:, None] - w[None, :]
    small = np.abs(z) < 1e-8
    phi = np.where(small, 1 + z / 2 + z * z / 6, np.expm1(z) / np.where(small, 1, z))
    return np.asarray(np.exp(w)[None, :] * phi)


def kronecker_form(x: np.ndarray, differences: object) -> np.ndarray | None:
    """K_f(X) (n²×n², real for a real X) from X's eigendecomposition and f's divided
    differences (a function of the eigenvalues); None where V is ill conditioned."""
    n = x.shape[0]
    w, v = np.linalg.eig(x)
    if np.linalg.cond(v) > V_CONDITION_LIMIT:
        return None
    vi = np.linalg.inv(v)
    phi = differences(w)  # type: ignore[operator]
    # K[(p,q), (k,l)] = Σ_ab V[p,a] V⁻¹[a,k] Φ[a,b] V[l,b] V⁻¹[b,q]
    r = np.einsum("pa,ak,ab->pkb", v, vi, phi).reshape(n * n, n)  # (p k) × b
    q = np.einsum("lb,bq->lqb", v, vi).reshape(n * n, n)  # (l q) × b
    real = np.isrealobj(x)
    out = np.empty((n, n, n, n), dtype=float if real else complex)  # [q, p, l, k]
    step = max(1, ROWS_AT_ONCE // (n**3))
    for p0 in range(0, n, step):
        rows = r[p0 * n : (p0 + step) * n]
        # K is real for a real X: its real part alone, two real products instead of a complex one
        block = rows.real @ q.real.T - rows.imag @ q.imag.T if real else rows @ q.T
        out[:, p0 : p0 + step] = block.reshape(-1, n, n, n).transpose(3, 0, 2, 1)  # [p, k, l, q] → [q, p, l, k]
    return out.reshape(n * n, n * n)
