"""An independent reference for the graph IR text (docs/ir.md), on PyTorch.

Written from docs/ir.md (the contract and "Details this implementation
fixes"), not from gc's C code.  Three parts:

  parse(text) -> Graph            the text IR (grammar, attrs, defaults)
  evaluate(graph, params, inputs) every value, the outputs and the updates
  gradients(graph, params, inputs, output)
                                  d output / d every float param (autograd)

Tensors are torch tensors.  With f32_in_f64=True every f32 value is computed
in double and rounded to f32 after each op ("f32 storage, exact arithmetic"),
which is what a careful f32 implementation approximates; results come back
as float32 tensors either way.

rand_uniform is gc's own generator (Philox, whose counter layout the doc does
not fix): the reference fills it with torch's generator, so only its shape and
range mean anything.
"""
import math
import re

import torch

DTYPES = {"f32": torch.float32, "f64": torch.float64, "i32": torch.int32,
          "i64": torch.int64, "bool": torch.bool}
FLOATS = ("f32", "f64")
INTS = ("i32", "i64")

ATTR_DEFAULTS = {"keepdims": False, "transpose_a": False, "transpose_b": False,
                 "value": 0.0, "axis": 0}


class IRError(Exception):
    """A malformed file (parse) or a run-time error (evaluate)."""


class Node:
    def __init__(self, name, op, operands, attrs, dtype, shape, line):
        self.name, self.op, self.operands, self.attrs = name, op, operands, attrs
        self.dtype, self.shape, self.line = dtype, tuple(shape), line

    def attr(self, key, default=None):
        if key in self.attrs:
            return self.attrs[key]
        return ATTR_DEFAULTS.get(key, default)


class Graph:
    def __init__(self, name):
        self.name = name
        self.nodes = []          # in text order (topological)
        self.by_name = {}
        self.outputs = []        # [(name, value)]
        self.updates = []        # [(param name, value)]

    def sources(self, kind):
        """{name: node} of the graph's inputs or params."""
        return {n.attrs["name"]: n for n in self.nodes if n.op == kind}


# ---- lexer -----------------------------------------------------------------

_TOKEN = re.compile(r"""
    (?P<ws>[ \t\r\n]+|\#[^\n]*)
  | (?P<value>%[A-Za-z0-9_.]+)
  | (?P<string>"(?:[^"\\\n]|\\.)*")
  | (?P<number>[-+]?(?:inf\b|nan\b|0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?))
  | (?P<ident>[A-Za-z_][A-Za-z0-9_.]*)
  | (?P<punct>[{}\[\](),=:@])
""", re.VERBOSE)


def _lex(text):
    toks, pos, line, col0 = [], 0, 1, 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise IRError(f"{line}:{pos - col0 + 1}: unexpected character {text[pos]!r}")
        kind = m.lastgroup
        if kind != "ws":
            toks.append((kind, m.group(), line))
        for i, ch in enumerate(m.group()):
            if ch == "\n":
                line, col0 = line + 1, pos + i + 1
        pos = m.end()
    toks.append(("eof", "", line))
    return toks


def _number(tok):
    s = tok.lower()
    if s.lstrip("+-") in ("inf", "nan"):
        return float(s)
    if re.fullmatch(r"[-+]?0x[0-9a-f]+", s):
        return int(s, 16)
    if re.fullmatch(r"[-+]?\d+", s):
        return int(s)
    return float(s)


def _unquote(s):
    return re.sub(r"\\(.)", r"\1", s[1:-1])


class _Parser:
    def __init__(self, text):
        self.toks, self.i = _lex(text), 0

    def peek(self):
        return self.toks[self.i]

    def next(self):
        t = self.toks[self.i]
        self.i += 1
        return t

    def expect(self, text=None, kind=None):
        t = self.next()
        if (text is not None and t[1] != text) or (kind is not None and t[0] != kind):
            raise IRError(f"line {t[2]}: expected {text or kind}, got {t[1]!r}")
        return t

    def accept(self, text):
        if self.peek()[1] == text and self.peek()[0] in ("punct", "ident"):
            self.i += 1
            return True
        return False

    def int_list(self):
        self.expect("[")
        out = []
        if not self.accept("]"):
            while True:
                out.append(int(_number(self.expect(kind="number")[1])))
                if self.accept("]"):
                    break
                self.expect(",")
        return out

    def attr_value(self):
        kind, text, _ = self.peek()
        if text == "[":
            return self.int_list()
        self.next()
        if kind == "number":
            return _number(text)
        if kind == "string":
            return _unquote(text)
        if text in ("true", "false"):
            return text == "true"
        raise IRError(f"bad attribute value {text!r}")

    def attrs(self):
        out = {}
        if self.accept("{"):
            while True:
                key = self.expect(kind="ident")[1]
                self.expect("=")
                out[key] = self.attr_value()
                if self.accept("}"):
                    break
                self.expect(",")
        return out

    def type(self):
        dt = self.expect(kind="ident")[1]
        if dt not in DTYPES:
            raise IRError(f"unknown dtype {dt}")
        return dt, self.int_list()

    def graph(self):
        self.expect("graph")
        self.expect("@")
        g = Graph(self.expect(kind="ident")[1])
        self.expect("{")
        while not self.accept("}"):
            kind, text, line = self.next()
            if text in ("output", "update") and kind == "ident":
                key = _unquote(self.expect(kind="string")[1])
                self.expect("=")
                v = self.expect(kind="value")[1]
                if v not in g.by_name:
                    raise IRError(f"line {line}: {v} used before definition")
                (g.outputs if text == "output" else g.updates).append((key, g.by_name[v]))
                continue
            if kind != "value":
                raise IRError(f"line {line}: expected a statement, got {text!r}")
            if text in g.by_name:
                raise IRError(f"line {line}: {text} redefined")
            self.expect("=")
            op = self.expect(kind="ident")[1]
            operands, attrs = [], {}
            if op in ("input", "param"):
                attrs["name"] = _unquote(self.expect(kind="string")[1])
            elif op == "const":
                attrs["value"] = _number(self.expect(kind="number")[1])
            elif self.peek()[0] == "value":
                while True:
                    v = self.expect(kind="value")[1]
                    if v not in g.by_name:
                        raise IRError(f"line {line}: {v} used before definition")
                    operands.append(g.by_name[v])
                    if not self.accept(","):
                        break
            attrs.update(self.attrs())
            self.expect(":")
            dt, shape = self.type()
            node = Node(text, op, operands, attrs, dt, shape, line)
            g.nodes.append(node)
            g.by_name[text] = node
        self.expect(kind="eof")
        return g


def parse(text):
    return _Parser(text).graph()


# ---- evaluation ------------------------------------------------------------

_UNARY = {
    "neg": torch.neg, "abs": torch.abs, "exp": torch.exp, "log": torch.log,
    "sqrt": torch.sqrt, "rsqrt": torch.rsqrt, "recip": torch.reciprocal,
    "tanh": torch.tanh, "sigmoid": torch.sigmoid, "erf": torch.erf,
    "sin": torch.sin, "cos": torch.cos,
}
_COMPARE = {"lt": torch.lt, "le": torch.le, "eq": torch.eq, "ne": torch.ne}


def _int_div(a, b):
    """Integer division truncating toward zero (C); by zero gives 0."""
    zero = b == 0
    q = torch.div(a, torch.where(zero, torch.ones_like(b), b), rounding_mode="trunc")
    return torch.where(zero, torch.zeros_like(q), q)


def _binary(op, a, b, dt):
    if op == "add":
        return a + b
    if op == "sub":
        return a - b
    if op == "mul":
        return a * b
    if op == "div":
        return _int_div(a, b) if dt in INTS else a / b
    if op == "max":
        return torch.maximum(a, b)   # propagates NaN
    if op == "min":
        return torch.minimum(a, b)
    if op == "pow":
        return torch.pow(a, b)
    raise IRError(f"not a binary op: {op}")


def _cast(x, src, dst, tdt):
    if dst == "bool":
        return x != 0
    if src in FLOATS and dst in INTS:
        info = torch.iinfo(tdt)
        xd = x.detach().to(torch.float64)
        t = torch.trunc(torch.nan_to_num(xd, nan=0.0, posinf=0.0, neginf=0.0))
        t = torch.clamp(t, -2.0 ** 62, 2.0 ** 62)   # exact in double, fits int64
        out = t.to(torch.int64)
        out = torch.where(xd >= 2.0 ** (info.bits - 1), torch.tensor(info.max), out)
        out = torch.where(xd < -2.0 ** (info.bits - 1), torch.tensor(info.min), out)
        out = torch.where(torch.isnan(xd), torch.tensor(0), out)
        return out.clamp(info.min, info.max).to(tdt)
    return x.to(tdt)


def _reduce_axes(node, x):
    axes = [a % max(x.dim(), 1) for a in node.attr("axes", [])]
    return sorted(set(axes))


def _reduce_sum(node, x, tdt):
    axes = _reduce_axes(node, x)
    keep = node.attr("keepdims")
    if not axes:
        return x.clone()
    return torch.sum(x, dim=axes, keepdim=keep).to(tdt)


def _reduce_max(node, x, dt, tdt):
    axes = _reduce_axes(node, x)
    keep = node.attr("keepdims")
    if not axes:
        return x.clone()
    if any(x.shape[a] == 0 for a in axes):
        fill = -math.inf if dt in FLOATS else torch.iinfo(tdt).min
        return torch.full(node.shape, fill, dtype=x.dtype)
    return torch.amax(x, dim=axes, keepdim=keep)


def _argmax(node, x):
    axis = node.attr("axis") % x.dim()
    xd = x.detach()
    if xd.dtype.is_floating_point:
        nan = torch.isnan(xd)
        best = torch.amax(torch.where(nan, torch.full_like(xd, -math.inf), xd), dim=axis, keepdim=True)
        has_nan = nan.any(dim=axis, keepdim=True)
        is_max = torch.where(has_nan, nan, xd == best)
    else:
        is_max = xd == torch.amax(xd, dim=axis, keepdim=True)
    n = xd.shape[axis]
    shape = [1] * xd.dim()
    shape[axis] = n
    idx = torch.arange(n).reshape(shape).expand(xd.shape)
    first = torch.where(is_max, idx, torch.full_like(idx, n)).amin(dim=axis, keepdim=node.attr("keepdims"))
    return first


def _slice(node, x):
    starts = node.attr("start")
    stops = node.attr("stop")
    steps = node.attr("step") or [1] * x.dim()
    return x[tuple(slice(a, b, s) for a, b, s in zip(starts, stops, steps))]


def _pad(node, x, tdt):
    lo, hi = node.attr("lo"), node.attr("hi")
    shape = [d + a + b for d, a, b in zip(x.shape, lo, hi)]
    v = node.attr("value")
    if tdt == torch.bool:
        v = bool(v)
    elif not tdt.is_floating_point:
        v = int(v)
    out = torch.full(shape, v, dtype=x.dtype)
    out[tuple(slice(a, a + d) for a, d in zip(lo, x.shape))] = x
    return out


def _dot(node, a, b):
    if node.attr("transpose_a"):
        a = a.transpose(-1, -2)
    if node.attr("transpose_b"):
        b = b.transpose(-1, -2)
    return torch.matmul(a, b)


def _check_indices(node, idx, size):
    bad = (idx < -size) | (idx >= size)
    if bad.any():
        v = int(idx[bad][0])
        raise IRError(f"{node.name}: index {v} out of range [{-size}, {size - 1}]")
    return torch.where(idx < 0, idx + size, idx).to(torch.int64)


def _gather(node, table, idx):
    axis = node.attr("axis") % table.dim()
    i = _check_indices(node, idx, table.shape[axis])
    out = torch.index_select(table, axis, i.reshape(-1))
    return out.reshape(tuple(table.shape[:axis]) + tuple(idx.shape) + tuple(table.shape[axis + 1:]))


def _scatter_add(node, idx, src, tdt):
    shape = node.shape
    axis = node.attr("axis") % len(shape)
    i = _check_indices(node, idx, shape[axis])
    n = i.numel()
    s = src.reshape(tuple(shape[:axis]) + (n,) + tuple(shape[axis + 1:]))
    out = torch.zeros(shape, dtype=s.dtype)
    return out.index_add(axis, i.reshape(-1), s)


def _iota(node, tdt):
    axis = node.attr("axis") % len(node.shape)
    n = node.shape[axis]
    shape = [1] * len(node.shape)
    shape[axis] = n
    return torch.arange(n, dtype=torch.float64).reshape(shape).expand(node.shape).to(tdt).clone()


class Evaluator:
    def __init__(self, f32_in_f64=False, rand_generator=None):
        self.f32_in_f64 = f32_in_f64
        self.gen = rand_generator or torch.Generator().manual_seed(0)

    def tdtype(self, dt):
        if dt == "f32" and self.f32_in_f64:
            return torch.float64
        return DTYPES[dt]

    def round(self, x, dt):
        """The stored value of a result of dtype dt."""
        if dt == "f32" and self.f32_in_f64:
            return x.to(torch.float32).to(torch.float64)
        return x

    def op(self, node, args):
        op, dt = node.op, node.dtype
        tdt = self.tdtype(dt)
        if op == "const":
            v = node.attrs["value"]
            return torch.full(node.shape, bool(v) if dt == "bool" else v, dtype=tdt)
        if op == "iota":
            return _iota(node, tdt)
        if op == "rand_uniform":
            return torch.rand(node.shape, generator=self.gen, dtype=torch.float64).to(tdt)
        if op in _UNARY:
            return _UNARY[op](args[0])
        if op == "stop_gradient":
            return args[0].detach()
        if op == "cast":
            return _cast(args[0], node.operands[0].dtype, dt, tdt)
        if op in ("add", "sub", "mul", "div", "max", "min", "pow"):
            return _binary(op, args[0], args[1], dt)
        if op in _COMPARE:
            return _COMPARE[op](args[0], args[1])
        if op == "where":
            return torch.where(args[0], args[1], args[2])
        if op == "broadcast":
            return args[0].expand(node.shape)
        if op == "reshape":
            return args[0].reshape(node.shape)
        if op == "transpose":
            return args[0].permute(node.attr("perm"))
        if op == "slice":
            return _slice(node, args[0])
        if op == "concat":
            return torch.cat(args, dim=node.attr("axis") % len(node.shape))
        if op == "pad":
            return _pad(node, args[0], tdt)
        if op == "reduce_sum":
            return _reduce_sum(node, args[0], tdt)
        if op == "reduce_max":
            return _reduce_max(node, args[0], dt, tdt)
        if op == "argmax":
            return _argmax(node, args[0]).to(tdt)
        if op == "dot":
            return _dot(node, args[0], args[1])
        if op == "gather":
            return _gather(node, args[0], args[1])
        if op == "scatter_add":
            return _scatter_add(node, args[0], args[1], tdt)
        raise IRError(f"{node.name}: unknown op {op}")

    def run(self, graph, params, inputs, leaves=None):
        """Every value of the graph: {value name: tensor}.  params/inputs are
        {name: tensor}; leaves, if given, replaces params by name (tensors
        that require grad)."""
        env = {}
        for node in graph.nodes:
            if node.op in ("input", "param"):
                src = (leaves or {}).get(node.attrs["name"]) if node.op == "param" else None
                if src is None:
                    src = (params if node.op == "param" else inputs).get(node.attrs["name"])
                if src is None:
                    raise IRError(f"missing {node.op} {node.attrs['name']!r}")
                if tuple(src.shape) != node.shape:
                    raise IRError(f"{node.op} {node.attrs['name']!r}: shape {tuple(src.shape)}, expected {node.shape}")
                v = src if src.requires_grad else src.to(self.tdtype(node.dtype))
                env[node.name] = self.round(v, node.dtype)
                continue
            v = self.op(node, [env[o.name] for o in node.operands])
            if v.dtype != self.tdtype(node.dtype):
                v = v.to(self.tdtype(node.dtype))
            if tuple(v.shape) != node.shape:
                raise IRError(f"{node.name} ({node.op}): computed shape {tuple(v.shape)}, declared {node.shape}")
            env[node.name] = self.round(v, node.dtype)
        return env

    def _export(self, v, dt):
        return v.detach().to(DTYPES[dt])

    def evaluate(self, graph, params, inputs):
        """{output name: tensor} and {param name: new value} for updates."""
        env = self.run(graph, params, inputs)
        outs = {k: self._export(env[v.name], v.dtype) for k, v in graph.outputs}
        ups = {k: self._export(env[v.name], v.dtype) for k, v in graph.updates}
        return outs, ups

    def gradients(self, graph, params, inputs, output):
        """{param name: d output / d param} for every float param (zeros
        where the output does not depend on it)."""
        fparams = {k: n for k, n in graph.sources("param").items() if n.dtype in FLOATS}
        leaves = {k: params[k].to(self.tdtype(n.dtype)).clone().requires_grad_(True)
                  for k, n in fparams.items()}
        env = self.run(graph, params, inputs, leaves)
        node = dict(graph.outputs)[output]
        y = env[node.name]
        names = list(leaves)
        if y.requires_grad:
            gs = torch.autograd.grad(y, [leaves[k] for k in names], allow_unused=True)
        else:
            gs = [None] * len(names)
        out = {}
        for k, g in zip(names, gs):
            g = torch.zeros_like(leaves[k]) if g is None else g
            out[k] = g.detach().to(DTYPES[fparams[k].dtype])
        return out


def evaluate(graph, params, inputs, **kw):
    return Evaluator(**kw).evaluate(graph, params, inputs)


def gradients(graph, params, inputs, output, **kw):
    return Evaluator(**kw).gradients(graph, params, inputs, output)
