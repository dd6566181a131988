#!/usr/bin/env python3
"""Fit the polynomial coefficients used by backends/llvm/math.c.

Each approximation is a weighted minimax fit (the Remez exchange algorithm, run
in 100-digit mpmath arithmetic) of a smooth function on a short interval,
after the range reduction described in docs/math.md. The coefficients are
rounded to the working precision one at a time, highest order first, and the
remaining ones refitted each time, so the rounding costs little accuracy.

    python3 scripts/fit_math.py                                # print every table
    python3 scripts/fit_math.py exp_f32                        # one fit only
    python3 scripts/fit_math.py --update backends/llvm/math.c  # rewrite math.c's copy

The output is the C text between the "fitted by scripts/fit_math.py" markers
in backends/llvm/math.c.  Needs python3-mpmath only; the whole run takes a
few minutes.
"""
import struct
import sys

import mpmath as mp

mp.mp.dps = 100


def _round_f32(x):
    # Round through an exact mpf so there is no double rounding.
    x = mp.mpf(x)
    if x == 0:
        return 0.0
    m, e = mp.frexp(x)               # x = m * 2^e, 0.5 <= |m| < 1
    scaled = mp.nint(m * 2**24)       # 24 significant bits, ties to even
    return float(mp.ldexp(scaled, e - 24))


def cheb_grid(a, b, n):
    """n points in [a, b], clustered toward the ends as Chebyshev extrema."""
    a, b = mp.mpf(a), mp.mpf(b)
    return [(a + b) / 2 - (b - a) / 2 * mp.cos(mp.pi * i / (n - 1)) for i in range(n)]


def remez(f, basis, a, b, weight, grid_n=3000, iters=40, tmin=None):
    """Minimise max |weight(t) * (f(t) - sum c_j basis_j(t))| over [a, b].

    Returns (coefficients, max weighted error on the grid)."""
    n = len(basis)
    grid = cheb_grid(a, b, grid_n)
    if tmin is not None:
        grid = [max(t, tmin) for t in grid]
    fv = [f(t) for t in grid]
    wv = [weight(t) for t in grid]
    phis = [[phi(t) for phi in basis] for t in grid]
    # initial reference: n+1 Chebyshev points picked from the grid
    ref = [int(round((grid_n - 1) * (1 - mp.cos(mp.pi * i / n)) / 2)) for i in range(n + 1)]
    ref = sorted(set(ref))
    c = None
    best = None
    for _ in range(iters):
        A = mp.matrix(n + 1, n + 1)
        rhs = mp.matrix(n + 1, 1)
        for r, gi in enumerate(ref):
            for j in range(n):
                A[r, j] = phis[gi][j]
            A[r, n] = (-1) ** r / wv[gi]
            rhs[r] = fv[gi]
        sol = mp.lu_solve(A, rhs)
        c = [sol[j] for j in range(n)]
        err = [wv[i] * (fv[i] - mp.fsum(c[j] * phis[i][j] for j in range(n)))
               for i in range(grid_n)]
        emax = max(abs(e) for e in err)
        eref = abs(sol[n])
        best = (c, emax)
        # new reference: one extremum per run of equal sign
        segs = []
        i = 0
        while i < grid_n:
            s = mp.sign(err[i])
            j = i
            k = i
            while j < grid_n and mp.sign(err[j]) == s:
                if abs(err[j]) > abs(err[k]):
                    k = j
                j += 1
            segs.append(k)
            i = j
        while len(segs) > n + 1:
            # drop the smallest, keeping the signs alternating
            m = min(range(len(segs)), key=lambda q: abs(err[segs[q]]))
            if m == 0 or m == len(segs) - 1:
                segs.pop(m)
            else:
                l, r = segs[m - 1], segs[m + 1]
                keep = l if abs(err[l]) >= abs(err[r]) else r
                segs[m - 1:m + 2] = [keep]
        if len(segs) < n + 1:
            break
        ref = segs
        if emax <= eref * (1 + mp.mpf("1e-8")):
            break
    return best


def fit(name, f, powers, a, b, weight, prec, var=lambda t: t, tmin=None, fixed=None):
    """Fit f(t) ~ sum c_j var(t)^powers[j], rounding c_j to prec one by one."""
    fixed = dict(fixed or {})
    coefs = [None] * len(powers)
    for j, v in fixed.items():
        coefs[j] = v
    # highest order first: the free ones left are then always 1, t, ..., t^m,
    # a Haar system, so each refit is a well-posed minimax problem
    for j in reversed(range(len(powers))):
        if coefs[j] is not None:
            continue
        free = [k for k in range(len(powers)) if coefs[k] is None]
        known = [(k, coefs[k]) for k in range(len(powers)) if coefs[k] is not None]

        def g(t, known=known):
            return f(t) - mp.fsum(mp.mpf(v) * var(t) ** powers[k] for k, v in known)

        basis = [(lambda t, p=powers[k]: var(t) ** p) for k in free]
        c, _ = remez(g, basis, a, b, weight, tmin=tmin)
        coefs[j] = _round_f32(c[-1]) if prec == "f32" else float(c[-1])
    # the error of the rounded polynomial, exactly evaluated, on a dense grid
    grid = cheb_grid(a, b, 20000)
    if tmin is not None:
        grid = [max(t, tmin) for t in grid]
    emax = max(abs(weight(t) * (f(t) - mp.fsum(mp.mpf(cj) * var(t) ** p
                                                for cj, p in zip(coefs, powers))))
               for t in grid)
    return coefs, emax


def c_table(name, coefs, emax, note):
    lines = [f"/* {note}; max weighted error {mp.nstr(emax, 3)} (exact arithmetic) */",
             f"static const double {name}[{len(coefs)}] = {{"]
    for cj in coefs:
        lines.append(f"  {float(cj).hex()}, /* {float(cj)!r} */")
    lines.append("};")
    return "\n".join(lines)


# ---- the functions being fitted --------------------------------------------

LN2 = mp.log(2)


def exp_fit(prec, degree):
    # e^r = 1 + r + r^2 Q(r), |r| <= ln2/2 (plus slack for k's rounding)
    h = LN2 / 2 * (1 + mp.mpf("1e-6"))
    f = lambda r: (mp.exp(r) - 1 - r) / r**2 if r != 0 else mp.mpf(1) / 2
    w = lambda r: r**2 / mp.exp(r)
    return fit("exp", f, list(range(degree + 1)), -h, h, w, prec)


def log_f32_fit(degree):
    # log1p(f) = f + f^2 P(f), f = z - 1, z in [sqrt(1/2), sqrt(2))
    a, b = mp.sqrt(0.5) - 1, mp.sqrt(2) - 1
    f = lambda t: (mp.log1p(t) - t) / t**2 if t != 0 else -mp.mpf(1) / 2
    w = lambda t: t**2 / abs(mp.log1p(t)) if t != 0 else 0
    return fit("log", f, list(range(degree + 1)), a, b, w, "f32")


def log_f64_fit(degree):
    # log1p(f) = 2 atanh(s) = 2s + s^3 R(s^2), s = f / (2 + f), |s| <= 3 - 2 sqrt(2)
    smax = (mp.sqrt(2) - 1) / (mp.sqrt(2) + 1)
    umax = smax**2 * (1 + mp.mpf("1e-6"))
    f = lambda u: (2 * mp.atanh(mp.sqrt(u)) - 2 * mp.sqrt(u)) / u**mp.mpf(1.5)
    w = lambda u: u / 2
    return fit("log", f, list(range(degree + 1)), mp.mpf(0), umax, w, "f64",
               tmin=umax * mp.mpf("1e-30"))


def odd_fit(prec, degree, a, fn):
    # fn(x) = x + x^3 P(x^2) on [0, a]: fit P(u), u = x^2, relative error of fn
    f = lambda u: (fn(mp.sqrt(u)) - mp.sqrt(u)) / u**mp.mpf(1.5)
    w = lambda u: u**mp.mpf(1.5) / abs(fn(mp.sqrt(u)))
    return fit("odd", f, list(range(degree + 1)), mp.mpf(0), mp.mpf(a)**2, w, prec,
               tmin=mp.mpf(a)**2 * mp.mpf("1e-30"))


def cos_fit(prec, degree, a):
    # cos r = 1 - r^2/2 + r^4 C(r^2)
    f = lambda u: (mp.cos(mp.sqrt(u)) - 1 + u / 2) / u**2
    w = lambda u: u**2 / mp.cos(mp.sqrt(u))
    return fit("cos", f, list(range(degree + 1)), mp.mpf(0), mp.mpf(a)**2, w, prec,
               tmin=mp.mpf(a)**2 * mp.mpf("1e-30"))


def erf_small_fit(prec, degree, a):
    # erf x = x + x P(x^2) on [0, a]: P(0) = 2/sqrt(pi) - 1 rounds with less
    # relative error than 2/sqrt(pi) would
    f = lambda u: mp.erf(mp.sqrt(u)) / mp.sqrt(u) - 1
    w = lambda u: mp.sqrt(u) / mp.erf(mp.sqrt(u))
    return fit("erf", f, list(range(degree + 1)), mp.mpf(0), mp.mpf(a)**2, w, prec,
               tmin=mp.mpf(a)**2 * mp.mpf("1e-30"))


def erf_large_fit(prec, degree, a, b, c):
    # erfc x = exp(-x^2 + G(x)), G a polynomial in x - c on [a, b];
    # the weight makes the error that of erf x = 1 - erfc x, relative.
    f = lambda x: mp.log(mp.erfc(x)) + x**2
    w = lambda x: mp.erfc(x) / mp.erf(x)
    return fit("erfc", f, list(range(degree + 1)), mp.mpf(a), mp.mpf(b), w, prec,
               var=lambda x: x - c)


def split(x, bits):
    """The leading `bits` significant bits of x."""
    m, e = mp.frexp(x)
    return mp.ldexp(mp.floor(m * 2**bits), e - bits)


# Where the pieces meet; math.c reads these as macros.
TANH_SMALL_F32, TANH_SMALL_F64 = 0.625, 0.25
ERF_MID_F32, ERF_TOP_F32 = 2.5, 3.95   # erf rounds to 1 in f32 from 3.92
ERF_MID_F64, ERF_TOP_F64 = 3.5, 6.0    # and in f64 from 5.93
TRIG_MAX = 2.0**50                     # sin/cos: the reduction's limit
PIO4 = float(mp.pi / 4) * (1 + 1e-9)   # |r| after reduction, with slack


def constants():
    ln2_hi32 = split(LN2, 15)   # k ln2_hi exact for |k| < 2^9
    ln2_hi64 = split(LN2, 32)   # and for |k| < 2^21
    p1 = mp.mpf(float(mp.pi / 2))
    p2 = mp.mpf(float(mp.pi / 2 - p1))
    p3 = mp.mpf(float(mp.pi / 2 - p1 - p2))
    out = [("LN2_HI_F32", float(ln2_hi32)), ("LN2_LO_F32", _round_f32(LN2 - ln2_hi32)),
           ("LN2_HI_F64", float(ln2_hi64)), ("LN2_LO_F64", float(LN2 - ln2_hi64)),
           ("PIO2_1", float(p1)), ("PIO2_2", float(p2)), ("PIO2_3", float(p3)),
           ("TANH_SMALL_F32", TANH_SMALL_F32), ("TANH_SMALL_F64", TANH_SMALL_F64),
           ("ERF_MID_F32", ERF_MID_F32), ("ERF_TOP_F32", ERF_TOP_F32),
           ("ERF_MID_F64", ERF_MID_F64), ("ERF_TOP_F64", ERF_TOP_F64), ("TRIG_MAX", TRIG_MAX)]
    text = "\n".join(f"#define {n} {v.hex()} /* {v!r} */" for n, v in out)
    # 2/pi in 24-bit pieces: piece j holds bits 24j+1 .. 24j+24 after the point
    chunks = [float((mp.floor(2 / mp.pi * mp.mpf(2)**(24 * (j + 1))) % 2**24)
                    * mp.mpf(2)**(-24 * (j + 1))) for j in range(9)]
    text += "\n/* 2/pi = sum of these, each 24 bits: f32 sin/cos beyond TRIG_MAX */\n"
    text += "static const double two_over_pi_24[9] = {\n"
    text += "".join(f"  {c.hex()},\n" for c in chunks) + "};"
    return text


FITS = [
    ("exp_f32", lambda: exp_fit("f32", 4), "e^r = 1 + r + r^2 Q(r), |r| <= ln2/2"),
    ("exp_f64", lambda: exp_fit("f64", 9), "e^r = 1 + r + r^2 Q(r), |r| <= ln2/2"),
    ("log_f32", lambda: log_f32_fit(8), "log1p f = f + f^2 P(f), f in [sqrt(1/2)-1, sqrt(2)-1]"),
    ("log_f64", lambda: log_f64_fit(6), "log1p f = 2s + s^3 R(s^2), s = f/(2+f)"),
    ("tanh_f32", lambda: odd_fit("f32", 5, TANH_SMALL_F32, mp.tanh), "tanh x = x + x^3 P(x^2), |x| < 0.625"),
    ("tanh_f64", lambda: odd_fit("f64", 6, TANH_SMALL_F64, mp.tanh), "tanh x = x + x^3 P(x^2), |x| < 0.25"),
    ("erf_small_f32", lambda: erf_small_fit("f32", 6, 1.0), "erf x = x + x P(x^2), |x| < 1"),
    ("erf_large_f32", lambda: erf_large_fit("f32", 9, 1.0, ERF_TOP_F32, ERF_MID_F32),
     "erfc x = exp(-x^2 + G(x - 2.5)), 1 <= x <= 3.95"),
    ("erf_small_f64", lambda: erf_small_fit("f64", 12, 1.0), "erf x = x + x P(x^2), |x| < 1"),
    ("erf_large_f64", lambda: erf_large_fit("f64", 22, 1.0, ERF_TOP_F64, ERF_MID_F64),
     "erfc x = exp(-x^2 + G(x - 3.5)), 1 <= x <= 6"),
    ("sin_f64", lambda: odd_fit("f64", 6, PIO4, mp.sin), "sin r = r + r^3 S(r^2), |r| <= pi/4"),
    ("cos_f64", lambda: cos_fit("f64", 6, PIO4), "cos r = 1 - r^2/2 + r^4 C(r^2), |r| <= pi/4"),
]

BEGIN = "/* BEGIN fitted by scripts/fit_math.py */\n"
END = "/* END fitted by scripts/fit_math.py */\n"


def main():
    args = sys.argv[1:]
    target = None
    if args[:1] == ["--update"]:
        target, args = args[1], args[2:]
    parts = [constants()] if not args else []
    for name, run, note in FITS:
        if args and name not in args:
            continue
        coefs, emax = run()
        parts.append(c_table(name, coefs, emax, note))
        print(parts[-1], file=sys.stderr if target else sys.stdout, flush=True)
    if target:
        text = open(target).read()
        i, j = text.index(BEGIN) + len(BEGIN), text.index(END)
        open(target, "w").write(text[:i] + "\n\n".join(parts) + "\n" + text[j:])
    elif not args:
        print(parts[0])


if __name__ == "__main__":
    main()
