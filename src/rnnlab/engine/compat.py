"""The versions of Keras, JAX and numba that the fast engines were tested with.

The `keras` engine uses Keras' public API only, so rnnlab installs with any
Keras 3 and JAX from its lower bounds on (pyproject.toml has no upper bounds).
The `xla` and `fused` engines use internals of Keras, of JAX (XLA's foreign
function interface) and of numba, which change between minor versions: with
versions other than these, `get_engine` runs `keras` instead and says why in
one line.  Versions are read from the installed packages' metadata, so
nothing is imported to check them.
"""

from importlib import metadata

from packaging.version import InvalidVersion, Version

# Each package's tested minor series: the speed paths ran their tests on these.
TESTED = {"keras": "3.15", "jax": "0.10", "jaxlib": "0.10", "numba": "0.68"}
NEEDS = {"xla": ("keras", "jax", "jaxlib"), "fused": ("keras", "jax", "jaxlib", "numba")}


def installed_version(package: str) -> str | None:
    """The installed version of `package`, or None when it is not installed."""
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def untested(engine: str) -> str | None:
    """Why `engine` should not run with the installed versions, or None when it may.

    A package that is missing is not this check's business (numba: the fused
    engine's own probe says so).
    """
    others = []
    for package in NEEDS.get(engine, ()):
        version = installed_version(package)
        if version is not None and not _in_series(version, TESTED[package]):
            others.append(f"{package} {version}")
    if not others:
        return None
    tested = ", ".join(f"{package} {TESTED[package]}" for package in NEEDS[engine])
    return f"the {engine} engine was tested with {tested}, not {', '.join(others)}"


def _in_series(version: str, series: str) -> bool:
    try:
        return Version(version).release[:2] == Version(series).release[:2]
    except InvalidVersion:
        return False
