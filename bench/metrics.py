"""Package metrics as the issue measures them: mean cyclomatic complexity (radon), longest
function, share of functions with 7+ parameters."""
import ast, sys, pathlib
from radon.complexity import cc_visit
root = pathlib.Path(sys.argv[1])
ccs, longest, params, nfun = [], [], 0, 0
for f in sorted(root.rglob("*.py")):
    src = f.read_text()
    for b in cc_visit(src):
        ccs.append(b.complexity)
    for node in ast.walk(ast.parse(src)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            nfun += 1
            a = node.args
            n = len(a.posonlyargs) + len(a.args) + len(a.kwonlyargs) + bool(a.vararg) + bool(a.kwarg)
            if a.args and a.args[0].arg in ("self", "cls"): n -= 1
            if n >= 7: params += 1
            longest.append((node.end_lineno - node.lineno + 1, f"{f.relative_to(root)}:{node.name}"))
longest.sort(reverse=True)
print(f"blocks {len(ccs)} mean CC {sum(ccs)/len(ccs):.2f}  functions {nfun}  7+ params {params} ({100*params/nfun:.1f}%)")
print("longest:", longest[:6])
big = [b for f in root.rglob('*.py') for b in cc_visit(f.read_text()) if b.complexity >= 15]
print("CC>=15:", sorted(((b.complexity, b.name) for b in big), reverse=True)[:12])
