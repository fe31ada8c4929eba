"""The typing layer: docstrings, the stubs (`_native.pyi`, `_errors.pyi`, `_enums.pyi`) against
the runtime, and mypy actually using the stubs on code that calls the package.

stubtest does the thorough comparison (`python -m mypy.stubtest tokenward --allowlist
stubtest-allowlist.txt`); these tests catch the common drift without it, and check what
stubtest cannot: that the names users import are declared, and that mypy accepts correct
code and refuses wrong code.
"""

from __future__ import annotations

import ast
import inspect
import re
import runpy
import textwrap
from pathlib import Path
from typing import Any

import pytest
import tokenward
from tokenward import _enums, _errors, _native

PACKAGE = Path(tokenward.__file__).resolve().parent
STUBS = {name: PACKAGE / f"{name}.pyi" for name in ("_native", "_errors", "_enums")}
NATIVE_CLASSES = [obj for obj in vars(_native).values() if inspect.isclass(obj)]


# --- (a) docstrings ---------------------------------------------------------------------


def _public_names() -> list[str]:
    return list(tokenward.__all__)


@pytest.mark.parametrize("name", _public_names())
def test_public_name_has_docstring(name: str) -> None:
    obj = getattr(tokenward, name)
    if not (inspect.isclass(obj) or callable(obj)):
        # A module constant (a str) cannot carry a docstring of its own.
        assert isinstance(obj, str), f"{name} is neither a class, a function nor a str"
        return
    # `__doc__` itself, not `inspect.getdoc`: that one falls back to a base class's.
    doc = obj.__doc__
    assert doc and doc.strip(), f"tokenward.{name} has no docstring"


def _native_members() -> list[tuple[str, str]]:
    return sorted(
        (cls.__name__, member)
        for cls in NATIVE_CLASSES
        for member in vars(cls)
        if not member.startswith("_")
    )


def test_native_classes_have_members() -> None:
    # Guards the parametrization below against finding nothing.
    assert len(_native_members()) > 40


@pytest.mark.parametrize(("cls_name", "member"), _native_members())
def test_native_member_has_docstring(cls_name: str, member: str) -> None:
    attribute = vars(getattr(_native, cls_name))[member]
    # A static or class method is stored wrapped; its docstring is on the function.
    doc = getattr(attribute, "__func__", attribute).__doc__
    assert doc and doc.strip(), (
        f"tokenward._native.{cls_name}.{member} has no docstring"
    )


def test_native_functions_have_docstrings() -> None:
    undocumented = [
        name
        for name, obj in vars(_native).items()
        if inspect.isbuiltin(obj) and not (obj.__doc__ and obj.__doc__.strip())
    ]
    assert undocumented == []


# --- (b) the stubs declare what the runtime has ------------------------------------------


def _stub_tree(module: str) -> ast.Module:
    return ast.parse(
        STUBS[module].read_text(encoding="utf-8"), filename=str(STUBS[module])
    )


def _declared(body: list[ast.stmt]) -> set[str]:
    """Names a stub body declares: classes, functions, annotated or assigned names."""
    names: set[str] = set()
    for node in body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


def _stub_classes(module: str) -> dict[str, ast.ClassDef]:
    return {
        node.name: node
        for node in _stub_tree(module).body
        if isinstance(node, ast.ClassDef)
    }


def _defining_stub(name: str) -> str:
    """The stub that must declare `tokenward.<name>`: the module the object comes from."""
    obj = getattr(tokenward, name)
    routine = inspect.isclass(obj) or callable(obj)
    module: str | None = getattr(obj, "__module__", None) if routine else None
    if module is None:
        # A constant: re-exported from the native module.
        assert hasattr(_native, name), f"{name} is not from tokenward._native"
        return "_native"
    assert module.startswith("tokenward._"), f"{name} comes from {module}"
    return module.split(".")[-1]


@pytest.mark.parametrize("name", _public_names())
def test_public_name_is_declared_in_its_stub(name: str) -> None:
    stub = _defining_stub(name)
    assert name in _declared(_stub_tree(stub).body), (
        f"{name} is missing from {stub}.pyi"
    )


def test_native_all_matches_stub() -> None:
    tree = _stub_tree("_native")
    (stub_all,) = [
        node.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets)
    ]
    assert sorted(ast.literal_eval(stub_all)) == sorted(_native.__all__)
    assert set(_native.__all__) <= _declared(tree.body)


@pytest.mark.parametrize("cls", NATIVE_CLASSES, ids=lambda cls: cls.__name__)
def test_native_class_members_are_declared(cls: type) -> None:
    stub = _stub_classes("_native")[cls.__name__]
    public = {member for member in vars(cls) if not member.startswith("_")}
    assert public - _declared(stub.body) == set()
    assert {m for m in _declared(stub.body) if not m.startswith("_")} - public == set()


def test_every_exception_class_is_in_the_stub() -> None:
    stubs = _stub_classes("_errors")
    made = set(_errors.CLASSES.values())
    assert len(made) == len(_native.CODES) - 1  # every code but `ok`
    for cls in made | {_errors.TokenwardError, _errors.Rejected, _errors.StoreError}:
        assert cls.__name__ in stubs, f"{cls.__name__} is missing from _errors.pyi"
        stub_bases = [ast.unparse(base) for base in stubs[cls.__name__].bases]
        assert stub_bases == [base.__name__ for base in cls.__bases__], cls.__name__
    assert "CLASSES" in _declared(_stub_tree("_errors").body)


def test_stub_declares_no_exception_the_runtime_lacks() -> None:
    for name in _stub_classes("_errors"):
        assert isinstance(getattr(_errors, name, None), type), (
            f"_errors.{name} does not exist"
        )


@pytest.mark.parametrize(
    "enum_cls", [_enums.LoginType, _enums.Scope, _enums.TokenSource]
)
def test_enum_members_match_the_stub(enum_cls: Any) -> None:
    stub = _stub_classes("_enums")[enum_cls.__name__]
    declared = {
        node.targets[0].id: ast.literal_eval(node.value)
        for node in stub.body
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
    }
    assert declared == {member.name: member.value for member in enum_cls}


# --- (c) mypy uses the stubs ---------------------------------------------------------------

# Valid use of the main API: must type-check under --strict, and runs (below) as written.
GOOD = """
from __future__ import annotations

import datetime

import tokenward


def main() -> None:
    settings = tokenward.Settings(session_duration="12h", access_url=None)
    wider: tokenward.Settings = settings.replace(max_token_lifetime=datetime.timedelta(days=30))
    limit: datetime.timedelta = wider.max_token_lifetime
    assert limit == datetime.timedelta(days=30)
    with tokenward.Authority.open(tokenward.MEMORY_URL, settings=settings) as authority:
        owner = tokenward.User("admin", roles=["owner"])
        token, key = authority.create_token(
            owner, "user-1", lifetime="24h", token_name="ci", scopes=[tokenward.Scope.CODER_ALL]
        )
        expires: datetime.datetime = key.expires_at
        login: tokenward.LoginType = key.login_type
        scopes: list[tokenward.Scope | str] = key.scopes
        assert login is tokenward.LoginType.TOKEN and scopes == [tokenward.Scope.CODER_ALL]
        verified = authority.authenticate(token, remote_addr="10.0.0.1")
        same: tokenward.ApiKey = verified.key
        update: tokenward.KeyUpdate | None = verified.update
        if update is not None:
            assert update.apply_to(same).last_used >= same.last_used
        now = datetime.datetime.now(datetime.timezone.utc)
        assert expires > now
        checked = tokenward.verify_record(token, key, now=now, settings=settings)
        assert checked.key == key
        found = tokenward.extract_token({"Authorization": f"Bearer {token}"}, query=b"")
        assert found is not None
        source: tokenward.TokenSource = tokenward.TokenSource(found.source)
        assert source is tokenward.TokenSource.BEARER
        assert tokenward.extract_token([(b"cookie", b"a=b")]) is None
        parsed: tokenward.Token = tokenward.parse(token, strict=True)
        digest: bytes = parsed.hashed_secret()
        assert digest == tokenward.hash_secret(parsed.secret) == key.hashed_secret
        try:
            authority.authenticate("nope")
        except tokenward.Rejected as error:
            status: int = error.status
            challenge: str | None = error.www_authenticate
            headers: list[tuple[str, str]] = error.headers
            assert (status, error.code) == (401, "malformed") and challenge is not None
            assert headers and error.body and error.detail and error.number == 1001
        try:
            tokenward.parse_duration("soon")
        except tokenward.InvalidDuration as error:
            assert isinstance(error, ValueError) and error.status == 400


main()
"""

# Wrong uses: mypy must report an error on each line marked `# wrong`, and on no other.
BAD = """
from __future__ import annotations

import datetime

import tokenward


def misuse(authority: tokenward.Authority, key: tokenward.ApiKey) -> None:
    authority.authenticate(12345)  # wrong: the token is a str
    tokenward.verify_record(b"token", key)  # wrong: not bytes either
    tokenward.Settings(session_duraton="24h")  # wrong: no such setting
    when: str = key.expires_at  # wrong: a datetime
    authority.create_token("u", lifetime=3600)  # wrong: a timedelta or a Go string
    authority.list_tokens("u", "other-user")  # wrong: user_id is keyword-only
    update: tokenward.KeyUpdate = authority.authenticate("t").update  # wrong: may be None
    tokenward.User(42)  # wrong: the id is a str
    status: str = tokenward.Expired().status  # wrong: an int
"""


@pytest.fixture(scope="module")
def mypy_run(tmp_path_factory: pytest.TempPathFactory) -> Any:
    api = pytest.importorskip("mypy.api", reason="mypy is not installed")
    workdir = tmp_path_factory.mktemp("mypy")
    config = workdir / "mypy.ini"
    config.write_text("[mypy]\n", encoding="utf-8")  # no project or user configuration

    def run(source: str, *flags: str) -> tuple[str, int]:
        path = workdir / "snippet.py"
        path.write_text(textwrap.dedent(source), encoding="utf-8")
        stdout, stderr, status = api.run(
            [
                "--config-file",
                str(config),
                "--cache-dir",
                str(workdir / "cache"),
                "--strict",
                *flags,
                "--show-error-codes",
                "--no-color-output",
                "--no-error-summary",
                str(path),
            ]
        )
        assert not stderr, stderr
        return stdout, status

    return run


def test_good_usage_type_checks(mypy_run: Any) -> None:
    output, status = mypy_run(GOOD)
    assert (output, status) == ("", 0)


def test_good_usage_runs(tmp_path: Path) -> None:
    path = tmp_path / "good.py"
    path.write_text(GOOD, encoding="utf-8")
    runpy.run_path(str(path), run_name="snippet")


def test_bad_usage_fails_on_each_wrong_line(mypy_run: Any) -> None:
    output, status = mypy_run(BAD)
    assert status == 1, output
    flagged = {
        int(n)
        for n in re.findall(r"^\S*snippet\.py:(\d+): error:", output, re.MULTILINE)
    }
    wrong = {i for i, line in enumerate(BAD.splitlines(), 1) if "# wrong" in line}
    assert len(wrong) == 9
    assert flagged == wrong, output


def test_names_are_explicitly_exported(mypy_run: Any) -> None:
    names = ", ".join(name for name in tokenward.__all__)
    output, status = mypy_run(f"from tokenward import {names}\n")
    assert (output, status) == ("", 0)


def test_every_exception_class_the_codes_make_is_exported() -> None:
    made = {cls.__name__ for cls in tokenward._errors.CLASSES.values()}
    assert made <= set(tokenward.__all__)
    for name in made:
        assert getattr(tokenward, name) is getattr(tokenward._errors, name)
