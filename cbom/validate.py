"""Schema validation of CycloneDX JSON against the schema files cyclonedx-python-lib ships.

jsonschema-rs does it in a fraction of a second where python-jsonschema needs
~30 s for 3,000 components (its `uniqueItems` check compares every pair), so
it is the validator of the product; python-jsonschema is the fallback when the
Rust wheel is missing (exotic platforms) and the reference in tests. When neither
loads, `SchemaUnavailable` says why (never an ImportError): `cbom validate` exits 2
("cannot tell"), a scan writes its CBOM marked "not schema-validated".
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import List

SUPPORTED = ("1.4", "1.5", "1.6", "1.7")


class SchemaUnavailable(RuntimeError):
    pass


def schema_dir() -> Path:
    try:
        import cyclonedx.schema._res as res
    except ImportError as exc:  # pragma: no cover - dependency missing
        raise SchemaUnavailable(f"cyclonedx-python-lib is not installed: {exc}") from exc
    return Path(res.__file__).parent


def _load(name: str) -> dict:
    with open(schema_dir() / name, encoding="utf-8") as f:
        return json.load(f)


def _retrieve(uri: str) -> dict:
    # The schemas refer to each other as http://cyclonedx.org/schema/<file>: serve the local copies.
    name = uri.rsplit("/", 1)[-1]
    if not name.endswith(".SNAPSHOT.schema.json"):
        name = name.replace(".schema.json", ".SNAPSHOT.schema.json")
    path = schema_dir() / name
    if not path.is_file():
        raise SchemaUnavailable(f"no local copy of {uri} (offline: nothing is fetched)")
    return _load(name)


@lru_cache(maxsize=None)
def _validator(spec: str):
    if spec not in SUPPORTED:
        raise SchemaUnavailable(f"CycloneDX {spec} is not supported (supported: {', '.join(SUPPORTED)})")
    schema = _load(f"bom-{spec}.SNAPSHOT.schema.json")
    try:
        import jsonschema_rs
    except Exception as rs_exc:  # ImportError, or OSError from a DLL that cannot load
        try:
            return _python_validator(schema)
        except Exception as py_exc:
            raise SchemaUnavailable(
                f"no schema validator can load here: jsonschema-rs ({_first_line(rs_exc)}); "
                f"python-jsonschema ({_first_line(py_exc)})") from None
    return jsonschema_rs.validator_for(schema, retriever=_retrieve, validate_formats=True)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def unavailable(spec: str) -> str:
    """Why documents of CycloneDX `spec` cannot be schema-validated on this machine ("" when they can).

    Both validators are compiled Rust extensions (jsonschema-rs; rpds-py under python-jsonschema).
    Their Windows wheels are built with Rust >= 1.78, whose standard library needs Windows 10
    (`bcryptprimitives.dll!ProcessPrng`): on Windows 8.1, and under wine 8.0, neither imports.
    A scan there still writes its CBOM and says it is not schema-validated.
    """
    try:
        _validator(spec)
    except SchemaUnavailable as exc:
        return str(exc)
    except Exception as exc:  # a schema file unreadable or garbled in this installation
        return f"the CycloneDX {spec} schema cannot be loaded: {_first_line(exc)}"
    return ""


def _python_validator(schema: dict):
    import jsonschema
    from referencing import Registry, Resource

    # `retrieve` is the attrs alias of Registry._retrieve; referencing's pre-PEP 681 stub hides it from mypy.
    registry = Registry(retrieve=lambda uri: Resource.from_contents(_retrieve(uri)))  # type: ignore[call-arg]
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, registry=registry, format_checker=cls.FORMAT_CHECKER)


def errors(doc: dict, spec: str = "") -> List[str]:
    """Schema errors of CycloneDX document `doc` (empty when valid), one line each."""
    spec = spec or str(doc.get("specVersion", ""))
    validator = _validator(spec)
    out = []
    for err in validator.iter_errors(doc):
        path = "/".join(str(p) for p in getattr(err, "instance_path", ()) or getattr(err, "absolute_path", ()))
        out.append(f"/{path}: {err.message}"[:500])
        if len(out) >= 50:
            break
    return out
