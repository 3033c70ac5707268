"""Builds the wheel with the library inside: `pip install ./python` runs
`cargo build -p disruptor-mp --release --lib --locked` in the repository
(the directory above this one, or DMP_SOURCE_DIR) and copies
libdisruptor_mp.so into the package, where disruptor_mp/_lib.py loads it
first. The wheel is tagged for the platform (py3-none-<platform>): it
carries native code but no CPython extension, so any Python 3 on that
platform can use it. Everything else is in pyproject.toml.

Needs the Rust toolchain (cargo on PATH, in $CARGO or ~/.cargo/bin) and
setuptools >= 70.1 (its own bdist_wheel), both at build time only.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

try:
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:  # setuptools < 70.1, in a build without isolation
    import setuptools

    raise SystemExit(
        f"setup.py: setuptools {setuptools.__version__} has no bdist_wheel of its own; "
        "this package needs setuptools >= 70.1 (pip install -U setuptools), or let pip "
        "build in isolation (drop --no-build-isolation)"
    ) from None

HERE = Path(__file__).resolve().parent
LIBRARY = "libdisruptor_mp.so"


def source_dir() -> Path:
    root = Path(os.environ.get("DMP_SOURCE_DIR") or HERE.parent)
    manifest = root / "Cargo.toml"
    if not manifest.is_file() or 'name = "disruptor-mp"' not in manifest.read_text():
        raise SystemExit(
            f"setup.py: {root} is not the disruptor-mp repository (no Cargo.toml of the "
            "disruptor-mp package): build from a checkout (`pip install ./python` at its top), "
            "or set DMP_SOURCE_DIR to one"
        )
    return root


def find_cargo() -> str:
    for candidate in (os.environ.get("CARGO"), shutil.which("cargo"), str(Path.home() / ".cargo/bin/cargo")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise SystemExit("setup.py: cargo not found: install the Rust toolchain (https://rustup.rs) or set CARGO")


def build_library() -> Path:
    """Runs cargo; returns the path of the shared library it built (read
    from cargo's own report of its artefacts, whatever the target dir)."""
    cmd = [
        find_cargo(), "build", "-p", "disruptor-mp", "--release", "--lib", "--locked",
        "--message-format=json-render-diagnostics",
    ]
    print("setup.py: " + " ".join(cmd[1:]), flush=True)
    run = subprocess.run(cmd, cwd=source_dir(), stdout=subprocess.PIPE, text=True)
    if run.returncode != 0:
        raise SystemExit(f"setup.py: cargo build failed (exit {run.returncode}); its errors are above")
    for line in run.stdout.splitlines():
        try:
            message = json.loads(line)
        except ValueError:
            continue
        if message.get("reason") == "compiler-artifact" and message["target"]["name"] == "disruptor_mp":
            for f in message.get("filenames", []):
                if f.endswith("/" + LIBRARY):
                    return Path(f)
    raise SystemExit(f"setup.py: cargo did not report a {LIBRARY}")


class BuildPyWithLibrary(build_py):
    """build_py, then the library into the built package."""

    def run(self):
        # A module removed from the source must not linger in the wheel
        # from an earlier build's copy.
        shutil.rmtree(Path(self.build_lib) / "disruptor_mp", ignore_errors=True)
        super().run()
        built = build_library()
        target = Path(self.build_lib) / "disruptor_mp" / LIBRARY
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(built, target)
        os.chmod(target, 0o755)
        # The wheel carries no debug info (the installed C library keeps its
        # own in a .debug file, see scripts/install.sh).
        strip = shutil.which("strip")
        if strip:
            subprocess.run([strip, "--strip-debug", str(target)], check=True)


class PlatformWheel(bdist_wheel):
    """Not pure (it holds a shared library), but no CPython ABI either."""

    def finalize_options(self):
        super().finalize_options()
        self.root_is_pure = False

    def get_tag(self):
        _python, _abi, platform = super().get_tag()
        return "py3", "none", platform


class BinaryDistribution(Distribution):
    def has_ext_modules(self):
        return True


setup(
    cmdclass={"build_py": BuildPyWithLibrary, "bdist_wheel": PlatformWheel},
    distclass=BinaryDistribution,
)
