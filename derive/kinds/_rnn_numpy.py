"""The independent float64 recomputation of `rnn` (NumPy): the cells as matrix formulas, BPTT written out again."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..problem import Problem

KINK_NOISE = 1e-12   # relative size of float64 rounding noise around an exact 0 (a ReLU's kink)


def _sigmoid(a: np.ndarray) -> np.ndarray:
    """σ(a) = 1/(1 + e^{−a})."""
    return 1.0 / (1.0 + np.exp(-a))


def _arr(v: Any) -> np.ndarray | None:
    """A field as float64 (None kept)."""
    return None if v is None else np.array(v, dtype=float)


def _snap(a: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """A sum that is exactly 0 read as 0, not ±1e-17, so a ReLU takes the exact value's side."""
    return np.where(np.abs(a) <= KINK_NOISE * scale, 0.0, a)


def recompute(p: Problem) -> dict[str, Any]:
    """Every answer of the problem in float64."""
    f = p.fields
    x = np.array(f.inputs, dtype=float)
    w_ih, w_hh = np.array(f.w_ih, dtype=float), np.array(f.w_hh, dtype=float)
    h = w_hh.shape[1]
    b_ih = _arr(f.b_ih) if f.b_ih is not None else np.zeros(w_ih.shape[0])
    b_hh = _arr(f.b_hh) if f.b_hh is not None else np.zeros(w_ih.shape[0])
    h0 = _arr(f.h0) if f.h0 is not None else np.zeros(h)
    c0 = _arr(f.c0) if f.c0 is not None else np.zeros(h)
    cells = {"rnn": _rnn, "lstm": _lstm, "gru": _gru}
    out = cells[f.cell](x, w_ih, w_hh, b_ih, b_hh, h0, c0, _arr(f.upstream), f.nonlinearity)
    if f.b_ih is None and "grad_b_ih" in out:
        out["grad_b_ih"] = out["grad_b_hh"] = None
    return out


def _grads(x: np.ndarray, w_ih: np.ndarray, w_hh: np.ndarray, hs_prev: np.ndarray, dgi: np.ndarray,
           dgh: np.ndarray, dh0: np.ndarray) -> dict[str, Any]:
    """Parameter gradients from the per-step gradients of W_ih·x + b_ih and W_hh·h + b_hh."""
    return {"grad_w_ih": dgi.T @ x, "grad_w_hh": dgh.T @ hs_prev, "grad_b_ih": dgi.sum(axis=0),
            "grad_b_hh": dgh.sum(axis=0), "grad_h0": dh0, "grad_inputs": dgi @ w_ih}


def _rnn(x: np.ndarray, w_ih: np.ndarray, w_hh: np.ndarray, b_ih: np.ndarray, b_hh: np.ndarray, h0: np.ndarray,
         c0: np.ndarray, up: np.ndarray | None, act: str) -> dict[str, Any]:
    """h_t = f(W_ih x_t + b_ih + W_hh h_{t−1} + b_hh); BPTT through f′."""
    T, h = x.shape[0], w_hh.shape[1]
    hs, pres, prev = np.zeros((T, h)), np.zeros((T, h)), h0
    for t in range(T):
        a = w_ih @ x[t] + b_ih + w_hh @ prev + b_hh
        scale = np.abs(w_ih) @ np.abs(x[t]) + np.abs(b_ih) + np.abs(w_hh) @ np.abs(prev) + np.abs(b_hh)
        a = _snap(a, scale)
        pres[t] = a
        hs[t] = prev = np.tanh(a) if act == "tanh" else np.maximum(a, 0.0)
    out: dict[str, Any] = {"hidden": hs}
    if up is None:
        return out
    da, dh_next = np.zeros((T, h)), np.zeros(h)
    for t in range(T - 1, -1, -1):
        dh = up[t] + dh_next
        da[t] = dh * (1 - hs[t] ** 2) if act == "tanh" else dh * (pres[t] > 0)
        dh_next = w_hh.T @ da[t]
    hs_prev = np.vstack([h0, hs[:-1]])
    out.update(_grads(x, w_ih, w_hh, hs_prev, da, da, dh_next))
    return out


def _lstm(x: np.ndarray, w_ih: np.ndarray, w_hh: np.ndarray, b_ih: np.ndarray, b_hh: np.ndarray, h0: np.ndarray,
          c0: np.ndarray, up: np.ndarray | None, act: str) -> dict[str, Any]:
    """PyTorch's LSTM step by step; BPTT through h_t and c_t."""
    T, h = x.shape[0], w_hh.shape[1]
    hs, cs, gates = np.zeros((T, h)), np.zeros((T, h)), np.zeros((T, 4 * h))
    hp, cp = h0, c0
    for t in range(T):
        a = w_ih @ x[t] + b_ih + w_hh @ hp + b_hh
        i, f, g, o = _sigmoid(a[:h]), _sigmoid(a[h:2 * h]), np.tanh(a[2 * h:3 * h]), _sigmoid(a[3 * h:])
        cs[t] = cp = f * cp + i * g
        hs[t] = hp = o * np.tanh(cp)
        gates[t] = np.concatenate([i, f, g, o])
    out: dict[str, Any] = {"hidden": hs, "cells": cs, "gates": gates}
    if up is None:
        return out
    da = np.zeros((T, 4 * h))
    dh_next, dc_next = np.zeros(h), np.zeros(h)
    cs_prev = np.vstack([c0, cs[:-1]])
    for t in range(T - 1, -1, -1):
        i, f, g, o = np.split(gates[t], 4)
        tc = np.tanh(cs[t])
        dh = up[t] + dh_next
        dc = dc_next + dh * o * (1 - tc ** 2)
        da[t] = np.concatenate([dc * g * i * (1 - i), dc * cs_prev[t] * f * (1 - f), dc * i * (1 - g ** 2),
                                dh * tc * o * (1 - o)])
        dh_next, dc_next = w_hh.T @ da[t], dc * f
    hs_prev = np.vstack([h0, hs[:-1]])
    out.update(_grads(x, w_ih, w_hh, hs_prev, da, da, dh_next))
    return out


def _gru(x: np.ndarray, w_ih: np.ndarray, w_hh: np.ndarray, b_ih: np.ndarray, b_hh: np.ndarray, h0: np.ndarray,
         c0: np.ndarray, up: np.ndarray | None, act: str) -> dict[str, Any]:
    """PyTorch's GRU step by step (r applied to W_hn h + b_hn); BPTT."""
    T, h = x.shape[0], w_hh.shape[1]
    hs, gates, hns = np.zeros((T, h)), np.zeros((T, 3 * h)), np.zeros((T, h))
    hp = h0
    for t in range(T):
        gi, gh = w_ih @ x[t] + b_ih, w_hh @ hp + b_hh
        r = _sigmoid(gi[:h] + gh[:h])
        z = _sigmoid(gi[h:2 * h] + gh[h:2 * h])
        n = np.tanh(gi[2 * h:] + r * gh[2 * h:])
        hns[t] = gh[2 * h:]
        hs[t] = hp = (1 - z) * n + z * hp
        gates[t] = np.concatenate([r, z, n])
    out: dict[str, Any] = {"hidden": hs, "gates": gates}
    if up is None:
        return out
    dgi, dgh = np.zeros((T, 3 * h)), np.zeros((T, 3 * h))
    dh_next = np.zeros(h)
    hs_prev = np.vstack([h0, hs[:-1]])
    for t in range(T - 1, -1, -1):
        r, z, n = np.split(gates[t], 3)
        dh = up[t] + dh_next
        dn_pre = dh * (1 - z) * (1 - n ** 2)
        dz_pre = dh * (hs_prev[t] - n) * z * (1 - z)
        dr_pre = dn_pre * hns[t] * r * (1 - r)
        dgi[t] = np.concatenate([dr_pre, dz_pre, dn_pre])
        dgh[t] = np.concatenate([dr_pre, dz_pre, dn_pre * r])
        dh_next = dh * z + w_hh.T @ dgh[t]
    out.update(_grads(x, w_ih, w_hh, hs_prev, dgi, dgh, dh_next))
    return out
