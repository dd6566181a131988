#!/usr/bin/env python3
"""include_order.py ROOT DIR... [--allow FILE=HEADER]... — the layering, checked.

The DIRs are the layers' folders, lowest first, as CMakeLists.txt declares
them (GC_LAYERS and GC_DIR_*).  A source file (.c, .h, .def) belongs to the
layer whose folder is the longest prefix of its own folder; files in no
layer's folder (tests/, tools/, bench/, ...) are not checked.  Every
`#include "X/..."` whose folder belongs to a layer higher than the file's
own is an upward include: each is printed as one line, FILE:LINE: ..., and
the exit status is 1.  --allow FILE=HEADER declares one such include an
exception (the caller says why).  Exit 0 when the tree keeps the order, 2 on
bad usage.
"""
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
SOURCES = (".c", ".h", ".def")


def layer_of(folder, dirs):
    """The index of the layer owning `folder` (longest prefix), or None."""
    best = None
    for i, d in enumerate(dirs):
        if folder == d or folder.startswith(d + "/"):
            if best is None or len(d) > len(dirs[best]):
                best = i
    return best


def check(root, dirs, allow):
    """The upward includes under root, as (file, line, header, message)."""
    found = []
    for d in sorted(set(dirs)):
        top = os.path.join(root, d)
        if not os.path.isdir(top):
            continue
        for dirpath, _, files in sorted(os.walk(top)):
            folder = os.path.relpath(dirpath, root).replace(os.sep, "/")
            own = layer_of(folder, dirs)
            if own is None or dirs[own] != d:
                continue   # a deeper layer's folder: walked as its own layer
            for name in sorted(files):
                if not name.endswith(SOURCES):
                    continue
                rel = folder + "/" + name
                with open(os.path.join(dirpath, name), encoding="utf-8", errors="replace") as f:
                    for lineno, text in enumerate(f, 1):
                        m = INCLUDE.match(text)
                        if not m or "/" not in m.group(1):
                            continue
                        header = m.group(1)
                        theirs = layer_of(header.rsplit("/", 1)[0], dirs)
                        if theirs is None or theirs <= own or (rel, header) in allow:
                            continue
                        found.append((rel, lineno, header,
                                      "%s:%d: layer %s includes \"%s\" of the higher layer %s"
                                      % (rel, lineno, dirs[own], header, dirs[theirs])))
    return found


def main(argv):
    if "--help" in argv or "-h" in argv:
        print(__doc__.strip())
        return 0
    allow, rest = set(), []
    i = 0
    while i < len(argv):
        if argv[i] == "--allow" and i + 1 < len(argv) and "=" in argv[i + 1]:
            allow.add(tuple(argv[i + 1].split("=", 1)))
            i += 2
        elif argv[i].startswith("-"):
            print("include_order: unknown option %s (known: --allow, --help)" % argv[i], file=sys.stderr)
            return 2
        else:
            rest.append(argv[i])
            i += 1
    if len(rest) < 2 or not os.path.isdir(rest[0]):
        print("include_order: usage: include_order.py ROOT DIR... [--allow FILE=HEADER]", file=sys.stderr)
        return 2
    root, dirs = rest[0], [d.strip("/") for d in rest[1:]]
    found = check(root, dirs, allow)
    for *_, message in found:
        print(message)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
