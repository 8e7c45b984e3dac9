"""One room decides scoping. What a firm or operator token may see or do (the role matrix
of the interfaces spec: a firm its own elevators and tickets, an operator its own site,
anything else 404) is decided in api/scope.py; which roles reach a route at all is
`require(...)` in api/deps.py, and the token itself is api/auth.py. A comparison on a
caller's role, firm or site anywhere else is a decision the room does not see: a route
that forgets one leaks another firm's or site's data.

Passing the caller's role or ids on as data (the actor's role handed to a desk, the
role shown on the console) is not a decision and is not flagged."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
API = REPO / "api"
ROOM = ("scope.py", "deps.py", "auth.py")  # under api/
CALLER_TYPES = {"Principal", "Caller"}  # api/auth.py's Principal, api/deps.py's Caller
SCOPING = {"role", "firm_id", "site_id", "scoped"}


def _names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _caller_types(tree: ast.Module) -> set[str]:
    """Principal, Caller and the module's aliases of them (`Reader = Annotated[Principal,
    Depends(require(...))]`)."""
    types = set(CALLER_TYPES)
    for node in tree.body:
        if isinstance(node, ast.Assign) and node.value is not None and _names(node.value) & types:
            types |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return types


def _callers(tree: ast.Module, types: set[str]) -> set[str]:
    """Names annotated with a caller type anywhere in the module (parameters, variables)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.arg) and node.annotation is not None:
            annotated = (node.arg, node.annotation)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            annotated = (node.target.id, node.annotation)
        else:
            continue
        if _names(annotated[1]) & types:
            names.add(annotated[0])
    return names


def _is_scoping(node: ast.AST, callers: set[str]) -> bool:
    """`who.role`, `who.firm_id`, `who.site_id`, `who.scoped` of a caller; `.role` of
    anything (only a caller has one here); `request.state.principal.<any of them>`."""
    if not isinstance(node, ast.Attribute) or node.attr not in SCOPING:
        return False
    base = node.value
    return (
        node.attr == "role"
        or (isinstance(base, ast.Name) and base.id in callers)
        or (isinstance(base, ast.Attribute) and base.attr == "principal")
    )


def _involves(node: ast.AST, callers: set[str]) -> bool:
    return any(_is_scoping(n, callers) for n in ast.walk(node))


def _tested(node: ast.AST, callers: set[str]) -> bool:
    """Used as a truth value: `if who.site_id:`, `not who.scoped`, `who.firm_id or ...`."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        node = node.operand
    return _is_scoping(node, callers)


def scoping_decisions(source: str, name: str = "<module>") -> list[str]:
    """Comparisons, membership tests, truth tests and `match` on a caller's role, firm or
    site: `name:line code` for each."""
    tree = ast.parse(source, name)
    callers = _callers(tree, _caller_types(tree))
    found: list[ast.AST] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and _involves(node, callers):
            found.append(node)
        elif isinstance(node, ast.Match) and _involves(node.subject, callers):
            found.append(node.subject)
        elif isinstance(node, (ast.If, ast.IfExp, ast.While, ast.Assert)):
            if _tested(node.test, callers):
                found.append(node.test)
        elif isinstance(node, ast.BoolOp):
            found += [v for v in node.values if _tested(v, callers)]
        elif isinstance(node, ast.comprehension):
            found += [c for c in node.ifs if _tested(c, callers)]
        elif isinstance(node, ast.UnaryOp) and _tested(node, callers):
            found.append(node)
    unique = {id(n): n for n in found}.values()
    ordered = sorted(unique, key=lambda n: (n.lineno, n.col_offset))
    return [f"{name}:{n.lineno} {ast.unparse(n)}" for n in ordered]


def api_modules() -> list[Path]:
    room = {API / f for f in ROOM}
    return sorted(p for p in API.rglob("*.py") if p not in room)


@pytest.mark.timeout(10)
def test_no_scoping_decision_outside_the_room() -> None:
    assert (API / "scope.py").is_file(), "the room is api/scope.py"
    modules = api_modules()
    assert len(modules) > 10, "the api package's modules were not found"
    found = [
        hit
        for path in modules
        for hit in scoping_decisions(path.read_text(), str(path.relative_to(REPO)))
    ]
    assert not found, (
        f"{len(found)} scoping decisions outside api/scope.py (the room: give it a named"
        " function there, citing the role matrix, and call that):\n" + "\n".join(found)
    )


FLAGGED = [
    'def f(who: Principal):\n    return who.role == "firm"',
    'def f(who: Principal):\n    return who.role in ("admin", "supervisor")',
    "def f(who: Caller, site_id: str):\n    return site_id != who.site_id",
    'def f(who: Caller):\n    return "x" if who.firm_id == "f1" else None',
    "Reader = Annotated[Principal, Depends(require('admin'))]\n"
    "def f(user: Reader, firm: str):\n    return user.firm_id is not None and firm",
    "def f(who: Principal):\n    if who.site_id:\n        return 1",
    "def f(who: Principal):\n    return not who.scoped",
    'def f(who: Principal):\n    match who.role:\n        case "firm":\n            return 1',
    'def f(request):\n    return request.state.principal.role != "admin"',
    "def f(x):\n    return [r for r in x if r.role == 'operator']",
]
PASSED_ON = [
    "def f(who: Principal, d):\n    return d.transition(actor=who.actor, role=who.role)",
    'def f(who: Caller):\n    return {"role": who.role, "site_id": who.site_id}',
    'def f(body: Body):\n    return body.firm_id == "f1"',  # a request body, not the caller
    "def f(who: Principal):\n    return scope.may_act(who)",
]


@pytest.mark.parametrize("source", FLAGGED)
def test_a_scoping_decision_is_found(source: str) -> None:
    assert len(scoping_decisions(source)) == 1, source


@pytest.mark.parametrize("source", PASSED_ON)
def test_passing_the_caller_on_is_not_a_decision(source: str) -> None:
    assert scoping_decisions(source) == [], source
