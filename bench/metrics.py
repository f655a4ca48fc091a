"""The engine's shape in the figures issue 17 compares with MkDocs, Lektor, Python-Markdown
and Jinja: mean cyclomatic complexity (radon's, over every function, method and class), the
longest functions, and the share of functions with seven or more parameters (self and cls
not counted).

    pip install radon
    python bench/metrics.py [healthsite]
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

from radon.complexity import cc_visit


def parameters(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    a = node.args
    n = len(a.posonlyargs) + len(a.args) + len(a.kwonlyargs) + bool(a.vararg) + bool(a.kwarg)
    first = (a.posonlyargs + a.args)[:1]
    return n - (1 if first and first[0].arg in ("self", "cls") else 0)


def main() -> None:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "healthsite")
    complexity: list[tuple[int, str]] = []
    longest: list[tuple[int, str]] = []
    many = functions = 0
    for path in sorted(root.rglob("*.py")):
        source = path.read_text()
        rel = path.relative_to(root).as_posix()
        complexity += [(b.complexity, f"{rel}:{b.name}") for b in cc_visit(source)]
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                functions += 1
                many += parameters(node) >= 7
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                longest.append((lines, f"{rel}:{node.name}"))
    mean = sum(c for c, _ in complexity) / len(complexity)
    print(f"{len(complexity)} blocks, mean cyclomatic complexity {mean:.2f}; {functions} "
          f"functions, {many} with 7+ parameters ({100 * many / functions:.1f}%)")
    print("longest:", ", ".join(f"{name} {n}" for n, name in sorted(longest, reverse=True)[:6]))
    print("most complex:", ", ".join(f"{name} {c}" for c, name in
                                     sorted(complexity, reverse=True)[:8]))


if __name__ == "__main__":
    main()
