#!/usr/bin/env python3
"""Fails when a module of a crate imports from a module that imports it.

Usage: scripts/check-module-cycles.py CRATE_SRC_DIR [CRATE_SRC_DIR ...]
       scripts/check-module-cycles.py --self-test   (the checker on known cases)

Each source file is one module (`a/b.rs` and `a/b/mod.rs` are `crate::a::b`).
Module A depends on module B when A's code names a path that resolves into B:
`crate::b::...`, `super::...`, `self::...` or a path through a child
declared with `mod` (`child::Item`, in a `use` or in the code). A path is charged to the deepest module it names, so
`crate::error::Error` is an edge to `error` and `crate::error::code::Code`
an edge to `error::code`. A `mod` declaration is not an import, and neither
is a named re-export (`pub use code::Code;`, the module's published face):
the module depends on the re-exported module only where its own code uses
one of those names. A glob re-export (`pub use code::*;`) counts as an
import, since the names it brings cannot be told from the text. Test-only modules (`tests.rs`, `#[cfg(test)] mod tests`) are
skipped: a test of a module naturally reaches into it.

The check prints every strongly connected group of two or more modules
(each edge with the line that makes it) and exits 1 if there is any.
"""

import re
import sys
from pathlib import Path

PATH_RE = re.compile(r"\b(crate|super|self)((?:::[A-Za-z_][A-Za-z0-9_]*)+)")
CHILD_PATH_RE = re.compile(r"(?<![\w:$])([a-z_][a-z0-9_]*)((?:::[A-Za-z_][A-Za-z0-9_]*)+)")
LEXEME_RE = re.compile(
    r"//[^\n]*"  # line comment
    r"|/\*.*?\*/"  # block comment
    r'|(?<!\w)b?r(#*)".*?"\1'  # raw string
    r'|(?<!\w)b?"(?:\\.|[^"\\])*"'  # string
    r"|(?<!\w)b?'(?:\\.|[^'\\])'",  # character
    re.S,
)
USE_RE = re.compile(r"\b(pub(?:\([^)]*\))?\s+)?use\s+([^;]*);")


def split_top(text):
    """Splits `a, b::{c, d}` at the commas outside braces."""
    depth, item, items = 0, "", []
    for ch in text:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            items.append(item)
            item = ""
        else:
            item += ch
    return items + [item]


def use_paths(tree, prefix=""):
    """The full paths of a use tree: `a::{b, c::{d as e}}` -> a::b, a::c::d (with their local names)."""
    tree = re.sub(r"\s+", " ", tree).strip()
    if not tree:
        return []
    brace = tree.find("{")
    if brace >= 0 and tree.endswith("}"):
        head = prefix + tree[:brace].strip().rstrip(":").strip()
        out = []
        for item in split_top(tree[brace + 1:-1]):
            out += use_paths(item, head + "::" if head else "")
        return out
    path, _, alias = tree.partition(" as ")
    path = prefix + path.strip()
    return [(path, alias.strip() or path.split("::")[-1])]


def module_of(src: Path, file: Path):
    parts = list(file.relative_to(src).with_suffix("").parts)
    if parts in (["lib"], ["main"]):
        return ()
    if parts[-1] == "mod":
        parts = parts[:-1]
    return tuple(parts)


def strip(code: str) -> str:
    """Removes comments, strings and inline test modules."""
    # One pass, so that a `//` inside a string ("https://...") is not taken
    # for a comment, nor a quote inside a comment for a string.
    code = LEXEME_RE.sub(lambda m: "" if m.group(0).startswith("/") else '""', code)
    # Drop `#[cfg(test)] mod name { ... }` bodies by brace matching.
    out, i = [], 0
    for m in re.finditer(r"#\[cfg\(test\)\]\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+\w+\s*\{", code):
        if m.start() < i:
            continue
        out.append(code[i:m.start()])
        depth, j = 1, m.end()
        while j < len(code) and depth:
            depth += {"{": 1, "}": -1}.get(code[j], 0)
            j += 1
        i = j
    out.append(code[i:])
    return "".join(out)


def resolve(module, path, modules, foreign=None):
    segs = path.split("::")
    if segs[0] == "crate":
        base, rest = (), segs[1:]
    else:
        base, rest = module, segs
        while rest and rest[0] in ("super", "self"):
            if rest[0] == "super":
                base = base[:-1]
            rest = rest[1:]
    target = base
    for seg in rest:
        if seg in ("*", "{", "self") or not re.match(r"^[A-Za-z_]\w*$", seg):
            break
        if target + (seg,) in modules:
            target = target + (seg,)
        else:
            if foreign is not None and seg in foreign.get(target, ()):
                return None  # a name the module took from another crate
            break
    return target


def scc(graph):
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            out.append(comp)

    sys.setrecursionlimit(10000)
    for v in list(graph):
        if v not in index:
            visit(v)
    return out


def check(src: Path) -> int:
    files = {}
    for f in sorted(src.rglob("*.rs")):
        if f.name == "tests.rs" or "tests" in f.relative_to(src).parts[:-1]:
            continue
        files[module_of(src, f)] = f
    modules = set(files)
    # Names each module imports from other crates (`use factify_invites::ids;`):
    # a path through them depends on that crate, not on the module.
    foreign = {}
    for module, f in files.items():
        for m in USE_RE.finditer(strip(f.read_text())):
            for path, local in use_paths(m.group(2)):
                first = path.split("::")[0]
                if first not in ("crate", "super", "self") and module + (first,) not in modules:
                    foreign.setdefault(module, set()).add(local)
    graph = {}
    for module, f in files.items():
        code = strip(f.read_text())
        edges = graph.setdefault(module, {})
        reexported = {}

        def target_of(path):
            if not path.startswith(("crate::", "super", "self")):
                first = path.split("::")[0]
                if module + (first,) not in modules:
                    return None  # another crate, or a name of this module
                path = "self::" + path
            target = resolve(module, path, modules, foreign)
            return target if target is not None and target != module and target in modules else None

        for m in USE_RE.finditer(code):
            for path, local in use_paths(m.group(2)):
                target = target_of(path)
                if target is None:
                    continue
                if m.group(1) and not path.endswith("*"):
                    reexported[local] = (target, path)
                else:
                    edges.setdefault(target, "use " + path)
        body = USE_RE.sub("", code)
        for m in PATH_RE.finditer(body):
            target = target_of(m.group(0))
            if target is not None:
                edges.setdefault(target, m.group(0))
        # A path through a child module without `self::` (`pool::CallGate`,
        # `grpc::GrpcTransport::new`); `a::b` after `::` is the middle of a
        # longer path, already charged above.
        for m in CHILD_PATH_RE.finditer(body):
            if module + (m.group(1),) in modules:
                target = target_of(m.group(0))
                if target is not None:
                    edges.setdefault(target, m.group(0))
        for local, (target, path) in reexported.items():
            if re.search(r"\b" + re.escape(local) + r"\b", body):
                edges.setdefault(target, f"{local}, re-exported from {path}")
    bad_graph = graph
    name = lambda m: "crate" + "".join("::" + s for s in m)
    bad = [c for c in scc(bad_graph) if len(c) > 1]
    for comp in bad:
        print(f"{src}: modules importing each other: {', '.join(sorted(name(m) for m in comp))}")
        for a in sorted(comp):
            for b, p in sorted(graph[a].items()):
                if b in comp:
                    print(f"    {name(a)} -> {name(b)}   ({p})")
    return len(bad)


def self_test() -> None:
    """Checks the checker on small crates whose answer is known."""
    import contextlib
    import io
    import tempfile

    cases = {
        # A facade re-exporting by name, children importing siblings: fine.
        "facade": ({
            "lib.rs": "mod a;\nmod b;\npub use a::A;\npub use b::B;\n",
            "a.rs": "pub struct A;\n",
            "b.rs": "use crate::a::A;\npub struct B(A);\n",
        }, 0),
        # Each names the other through `crate::`.
        "two": ({
            "lib.rs": "mod a;\nmod b;\n",
            "a.rs": "use crate::b::B;\npub struct A(Option<Box<B>>);\n",
            "b.rs": "pub struct B(Option<Box<crate::a::A>>);\n",
        }, 1),
        # A child using `super::*` while its parent uses the child's name.
        "glob": ({
            "lib.rs": "mod e;\n",
            "e/mod.rs": "mod s;\npub use s::S;\npub struct E(S);\n",
            "e/s.rs": "use super::*;\npub struct S;\nfn f(_: &E) {}\n",
        }, 1),
        # A path through a child without `self::`, and a `//` inside a string.
        "bare": ({
            "lib.rs": 'mod a;\nconst U: &str = "https://x";\npub struct R;\nfn f() { a::g(); }\n',
            "a.rs": "pub fn g() {}\nfn h(_: crate::R) {}\n",
        }, 1),
        # Test-only modules are not counted.
        "tests": ({
            "lib.rs": "mod a;\n#[cfg(test)]\nmod tests {\n    use crate::a::g;\n}\n",
            "a.rs": "pub fn g() {}\n#[cfg(test)]\nmod tests {\n    use crate::*;\n}\n",
        }, 0),
    }
    for name, (files, circles) in cases.items():
        with tempfile.TemporaryDirectory() as root:
            for path, text in files.items():
                (Path(root) / path).parent.mkdir(parents=True, exist_ok=True)
                (Path(root) / path).write_text(text)
            with contextlib.redirect_stdout(io.StringIO()):
                found = check(Path(root))
        assert found == circles, f"self-test {name}: {found} circles found, {circles} expected"
    print(f"self-test: {len(cases)} cases answered as expected")


if __name__ == "__main__":
    if sys.argv[1:] == ["--self-test"]:
        self_test()
        sys.exit(0)
    dirs = [Path(d) for d in sys.argv[1:]] or [Path("crates/factify-invites/src")]
    total = sum(check(d) for d in dirs)
    if total:
        sys.exit(1)
    print("no module imports from a module that imports it:", ", ".join(map(str, dirs)))
