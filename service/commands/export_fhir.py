"""``backpain-cds export-fhir DIR``: the clinical knowledge as an NPM-style FHIR package.

Writes ``DIR/package/package.json``, ``DIR/package/.index.json`` and one file per resource
(``PlanDefinition-CES-01.json`` ...), each byte-identical to ``GET /fhir/<type>/<id>``
with the same ``BACKPAIN_CDS_*`` settings (this site's thresholds are in the conditions).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from cds_rules import RuleSettings
from service import knowledge
from service.app import apply_site_codes
from service.config import ConfigError, load_settings


def register(subparsers: argparse._SubParsersAction) -> None:
    export = subparsers.add_parser(
        "export-fhir", help="write the rules, orders and value sets as a FHIR R4 package")
    export.add_argument("directory", metavar="DIR", type=Path,
                        help="output directory (package/ is created in it)")
    export.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    try:
        settings = load_settings()
        apply_site_codes(settings)  # the site's codes are part of its value sets
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"configuration error: {problem}", file=sys.stderr)
        return 2
    site = settings.rule_settings()
    try:
        count = write_package(args.directory, site)
    except OSError as exc:
        print(f"export-fhir: cannot write {args.directory}: {exc.strerror or exc}",
              file=sys.stderr)
        return 1
    print(f"wrote {count} resources to {args.directory / 'package'}")
    return 0


def write_package(directory: Path, site: RuleSettings) -> int:
    """Write the package; returns the number of resources."""
    package = directory / "package"
    package.mkdir(parents=True, exist_ok=True)
    index = []
    for resource_type in knowledge.TYPES:
        for resource_id, body in knowledge.serialised(resource_type, site).items():
            name = f"{resource_type}-{resource_id}.json"
            (package / name).write_bytes(body)
            resource = json.loads(body)
            index.append({"filename": name, "resourceType": resource_type, "id": resource_id,
                          "url": resource["url"], "version": resource["version"]})
    (package / ".index.json").write_bytes(knowledge.to_bytes({"index-version": 1,
                                                              "files": index}))
    (package / "package.json").write_bytes(knowledge.to_bytes(package_manifest()))
    return len(index)


def package_manifest() -> dict[str, object]:
    return {
        "name": knowledge.PACKAGE_NAME,
        "version": knowledge.release(),
        "description": "backpain-cds clinical knowledge: rules (PlanDefinition), orders "
                       "(ActivityDefinition) and value sets (ValueSet)",
        "canonical": knowledge.BASE,
        "fhirVersions": ["4.0.1"],
        "type": "fhir.ig",
        "license": "Apache-2.0",
        "author": knowledge.PUBLISHER,
        "dependencies": {"hl7.fhir.r4.core": "4.0.1"},
    }
