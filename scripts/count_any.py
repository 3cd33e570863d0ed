"""Count `Any` used as a type in src/nbaprops, per package and in total.

What counts: every reference to `typing.Any` in code, found by parsing each module (so
the word in a docstring or a comment never counts): the name `Any` (or `typing.Any`,
`t.Any`) in an annotation, a cast, a type alias or a generic argument, and inside string
annotations (`"dict[str, Any]"`). The `from typing import Any` line itself does not count:
it is the import, not a use.

Usage: python scripts/count_any.py [--json] [ROOT]   (ROOT defaults to src/nbaprops)
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
from collections import Counter
from pathlib import Path

DEFAULT_ROOT = Path(__file__).resolve().parent.parent / "src" / "nbaprops"


def _any_aliases(tree: ast.Module) -> tuple[set[str], set[str]]:
    """Names bound to `typing.Any` and names bound to the `typing` module in one module."""
    any_names: set[str] = set()
    typing_names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module in {"typing", "typing_extensions"}:
            for alias in node.names:
                if alias.name == "Any":
                    any_names.add(alias.asname or "Any")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in {"typing", "typing_extensions"}:
                    typing_names.add(alias.asname or alias.name)
    return any_names, typing_names


def _is_any(node: ast.AST, any_names: set[str], typing_names: set[str]) -> bool:
    """Whether a node is `Any` (by its imported name) or `typing.Any` (by the module's name)."""
    if isinstance(node, ast.Name):
        return node.id in any_names
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "Any"
        and isinstance(node.value, ast.Name)
        and node.value.id in typing_names
    )


def _count_in_expr(expr: ast.AST, any_names: set[str], typing_names: set[str]) -> int:
    """`Any` references in one expression, string annotations parsed and counted too."""
    n = 0
    for node in ast.walk(expr):
        if _is_any(node, any_names, typing_names):
            n += 1
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            n += _count_in_string(node.value, any_names, typing_names)
    return n


def _count_in_string(text: str, any_names: set[str], typing_names: set[str]) -> int:
    """`Any` in a string that parses as a type expression (a forward reference)."""
    if "Any" not in text:
        return 0
    try:
        parsed = ast.parse(text.strip(), mode="eval")
    except SyntaxError:
        return 0  # prose (a docstring, a message), not a type
    return _count_in_expr(parsed, any_names, typing_names)


def count_module(source: str) -> int:
    """Uses of `Any` as a type in one module's source."""
    tree = ast.parse(source)
    any_names, typing_names = _any_aliases(tree)
    if not any_names and not typing_names:
        return 0
    n = 0
    for node in ast.walk(tree):
        if _is_any(node, any_names, typing_names):
            n += 1
    # String annotations: only strings in annotation position (or cast's first argument),
    # so a docstring that happens to parse never counts.
    for node in ast.walk(tree):
        annotations: list[ast.expr] = []
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            args = node.args
            for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs]:
                if arg.annotation is not None:
                    annotations.append(arg.annotation)
            for arg in (args.vararg, args.kwarg):
                if arg is not None and arg.annotation is not None:
                    annotations.append(arg.annotation)
            if node.returns is not None:
                annotations.append(node.returns)
        elif isinstance(node, ast.AnnAssign):
            annotations.append(node.annotation)
        elif (
            isinstance(node, ast.Call)
            and node.args
            and (
                (isinstance(node.func, ast.Name) and node.func.id == "cast")
                or (isinstance(node.func, ast.Attribute) and node.func.attr == "cast")
            )
        ):
            annotations.append(node.args[0])
        for ann in annotations:
            for sub in ast.walk(ann):
                if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
                    n += _count_in_string(sub.value, any_names, typing_names)
    return n


def count_tree(root: Path) -> dict[str, int]:
    """Counts per package (the first folder under ROOT; top-level modules under '.')."""
    counts: Counter[str] = Counter()
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        package = rel.parts[0] if len(rel.parts) > 1 else "."
        counts[package] += count_module(path.read_text(encoding="utf-8"))
    return dict(sorted(counts.items()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", nargs="?", type=Path, default=DEFAULT_ROOT)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    per_package = count_tree(args.root)
    total = sum(per_package.values())
    if args.json:
        print(json.dumps({"total": total, "per_package": per_package}, indent=2))
    else:
        width = max((len(name) for name in per_package), default=5)
        for name, n in per_package.items():
            print(f"{name:<{width}}  {n:>5}")
        print(f"{'total':<{width}}  {total:>5}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
