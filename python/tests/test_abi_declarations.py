"""The ctypes declarations match include/disruptor_mp.h exactly: every
dmp_ function, struct and constant of the header is declared, with the same
types. A function added to the C ABI without its line in
disruptor_mp/_lib.py FUNCTIONS fails here."""

from __future__ import annotations

import ctypes
import os
import re
import sys

import pytest

from disruptor_mp import _lib

BASE = {
    "int32_t": ctypes.c_int32,
    "uint32_t": ctypes.c_uint32,
    "int64_t": ctypes.c_int64,
    "uint64_t": ctypes.c_uint64,
    "size_t": ctypes.c_size_t,
    "bool": ctypes.c_bool,
}


def strip(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r"//[^\n]*", "", text)
    return "\n".join(l for l in text.splitlines() if not l.lstrip().startswith("#"))


def ctype(c: str):
    """The ctypes type a C type declaration must be declared as."""
    fn = re.fullmatch(r"fn\((.*?)\)\((.*)\)", c)
    if fn:
        args = [split_decl(a)[0] for a in fn.group(2).split(",") if a.strip()]
        return ctypes.CFUNCTYPE(ctype(fn.group(1)), *[ctype(a) for a in args])
    array = re.fullmatch(r"(.*)\[(\d+)\]", c)
    if array:
        return ctype(array.group(1)) * int(array.group(2))
    c = " ".join(c.replace("*", " * ").split())
    if c == "char":
        return ctypes.c_char
    if c == "void":
        return None
    if c in ("const char *", "char *"):
        return ctypes.c_char_p
    if c in ("void *", "const void *"):
        return ctypes.c_void_p
    if c == "const char * const *":
        return ctypes.POINTER(ctypes.c_char_p)
    if c.endswith(" *"):
        return ctypes.POINTER(ctype(c[:-2]))
    c = c.removeprefix("const ") if sys.version_info >= (3, 9) else re.sub(r"^const ", "", c)
    if c.startswith("struct "):
        name = c[len("struct "):]
        known = {**_lib.STRUCTS, **_lib.HANDLES}
        assert name in known, f"struct {name} has no ctypes class in _lib.py"
        return known[name]
    assert c in BASE, f"no ctypes mapping for C type {c!r}: extend BASE in this test"
    return BASE[c]


def split_decl(decl: str) -> tuple[str, str]:
    """'const struct x *name' -> ('const struct x *', 'name');
    'char name[64]' -> ('char[64]', 'name');
    'void (*f)(void *u, int x)' -> ('fn(void)(void *u, int x)', 'f')."""
    fn = re.fullmatch(r"(.*?)\(\s*\*\s*(\w+)\s*\)\s*\((.*)\)", " ".join(decl.split()))
    if fn:
        return f"fn({fn.group(1).strip()})({fn.group(3)})", fn.group(2)
    m = re.match(r"^(.*?)(\w+)(\[\d+\])?$", " ".join(decl.split()))
    assert m, decl
    return m.group(1).strip() + (m.group(3) or ""), m.group(2)


def header_functions(text: str) -> dict:
    body = strip(text)
    found = {}
    for m in re.finditer(r"([\w\s\*]+?)\b(dmp_\w+)\s*\(([^)]*)\)\s*;", body):
        ret = m.group(1).replace("DMP_MUST_USE", "").strip()
        params = [p.strip() for p in m.group(3).split(",") if p.strip() and p.strip() != "void"]
        found[m.group(2)] = (ret, [split_decl(p)[0] for p in params])
    return found


def header_structs(text: str) -> dict:
    body = strip(text)
    structs = {}
    for m in re.finditer(r"typedef struct (\w+) \{(.*?)\} \1;", body, flags=re.S):
        fields = [split_decl(f) for f in m.group(2).split(";") if f.strip()]
        structs[m.group(1)] = [(name, c) for c, name in fields]
    return structs


def header_constants(text: str) -> dict:
    out = {}
    for name, value in re.findall(r"^#define (DMP_\w+) (\S.*)$", text, flags=re.M):
        if value == "UINT64_MAX":
            out[name] = 2**64 - 1
        elif re.fullmatch(r"-?\d+", value):
            out[name] = int(value)
    return out


def test_every_header_function_is_declared_with_its_c_types(header):
    functions = header_functions(header.read_text())
    assert "dmp_claim" in functions and len(functions) >= 20, functions
    undeclared = sorted(set(functions) - set(_lib.FUNCTIONS))
    assert not undeclared, f"add these to FUNCTIONS in disruptor_mp/_lib.py: {undeclared}"
    stale = sorted(set(_lib.FUNCTIONS) - set(functions))
    assert not stale, f"FUNCTIONS declares functions the header does not have: {stale}"
    for name, (ret, params) in functions.items():
        restype, argtypes = _lib.FUNCTIONS[name]
        assert restype is ctype(ret), f"{name}: returns {ret}, declared {restype}"
        assert len(argtypes) == len(params), f"{name}: {len(params)} parameters, declared {len(argtypes)}"
        for k, (c, declared) in enumerate(zip(params, argtypes)):
            assert declared is ctype(c), f"{name} parameter {k}: {c}, declared {declared}"


def test_every_header_struct_has_the_same_fields(header):
    text = header.read_text()
    structs = header_structs(text)
    assert set(structs) == set(_lib.STRUCTS), (sorted(structs), sorted(_lib.STRUCTS))
    for name, fields in structs.items():
        declared = _lib.STRUCTS[name]._fields_
        assert [f for f, _ in declared] == [f for f, _ in fields], name
        for (field, c), (_, t) in zip(fields, declared):
            assert t is ctype(c), f"{name}.{field}: {c}, declared {t}"
    opaque = set(re.findall(r"typedef struct (\w+) \1;", strip(text)))
    assert opaque == set(_lib.HANDLES), (opaque, sorted(_lib.HANDLES))


def test_struct_sizes_match_the_c_layout():
    # The sizes tests/c/abi_misuse.c asserts with _Static_assert.
    assert ctypes.sizeof(_lib.dmp_ring_options) == 72
    assert ctypes.sizeof(_lib.dmp_producer_options) == 88
    assert ctypes.sizeof(_lib.dmp_consumer_options) == 48
    assert ctypes.sizeof(_lib.dmp_ring_info) == 80


def test_every_header_constant_has_the_same_value(header):
    constants = header_constants(header.read_text())
    assert constants["DMP_STATUS_TIMEOUT"] == 2
    for name, value in constants.items():
        if name.startswith("DMP_VERSION_"):
            continue
        assert hasattr(_lib, name), f"add {name} = {value} to disruptor_mp/_lib.py"
        assert getattr(_lib, name) == value, name
    major, minor = constants["DMP_VERSION_MAJOR"], constants["DMP_VERSION_MINOR"]
    assert _lib.ABI_VERSION == (major, minor)


def test_package_version_is_the_library_version(header):
    import disruptor_mp
    from conftest import REPO

    cargo = re.search(r'^version = "([^"]+)"', (REPO / "Cargo.toml").read_text(), flags=re.M)
    pyproject = re.search(r'^version = "([^"]+)"', (REPO / "python/pyproject.toml").read_text(), flags=re.M)
    assert cargo and pyproject
    assert disruptor_mp.__version__ == pyproject.group(1) == cargo.group(1)
    assert disruptor_mp.library_version() == cargo.group(1)


def test_a_function_missing_from_the_table_is_reported():
    # The parser itself: a new prototype in a header shows up as undeclared.
    text = "int32_t dmp_new_thing(struct dmp_ring *ring,\n    uint64_t n);\n"
    assert header_functions(text) == {"dmp_new_thing": ("int32_t", ["struct dmp_ring *", "uint64_t"])}
    assert "dmp_new_thing" not in _lib.FUNCTIONS


@pytest.mark.parametrize(
    "c, expected",
    [
        ("struct dmp_ring **", ctypes.POINTER(ctypes.POINTER(_lib.dmp_ring))),
        ("const struct dmp_ring_options *", ctypes.POINTER(_lib.dmp_ring_options)),
        ("int64_t *", ctypes.POINTER(ctypes.c_int64)),
        ("const char *const *", ctypes.POINTER(ctypes.c_char_p)),
    ],
)
def test_c_types_map_to_ctypes(c, expected):
    assert ctype(c) is expected


def test_every_declared_function_is_wrapped():
    """Every function of FUNCTIONS is called by the Pythonic layer (the
    modules besides _lib.py), so none is reachable only through ctypes."""
    package = os.path.dirname(_lib.__file__)
    text = ""
    for f in sorted(os.listdir(package)):
        if f.endswith(".py") and f != "_lib.py":
            with open(os.path.join(package, f)) as src:
                text += src.read()
    # The loader itself checks the version with dmp_version_number.
    unwrapped = [n for n in _lib.FUNCTIONS if n not in text and n != "dmp_version_number"]
    assert not unwrapped, f"declared in _lib.py but wrapped nowhere: {unwrapped}"
