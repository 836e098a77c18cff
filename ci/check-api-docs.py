#!/usr/bin/env python3
"""Fails when a public name of unipoll has no documentation.

Reads the XML that Doxygen writes for the API reference (docs/Doxyfile.in)
and checks every public header, class, struct, namespace, function,
variable, typedef, macro, enumeration and enumerator outside
unipoll::detail for a brief or detailed description. Doxygen's own
WARN_IF_UNDOCUMENTED covers most of this, but Doxygen 1.9.4 (Debian
bookworm) says nothing about undocumented enumerators, and a header without
a file comment hides its macros from Doxygen altogether; this check catches
both. Run by the `docs` target (docs/CMakeLists.txt):

    check-api-docs.py --xml BUILD/docs/xml --headers DIR [DIR...]
"""
import argparse
import pathlib
import sys
import xml.etree.ElementTree as ET

COMPOUND_KINDS = {"class", "struct", "union", "namespace", "file"}


def described(element):
    """True if the element has non-empty brief, detailed or in-body text."""
    for tag in ("briefdescription", "detaileddescription", "inbodydescription"):
        node = element.find(tag)
        if node is not None and "".join(node.itertext()).strip():
            return True
    return False


def where(element):
    loc = element.find("location")
    if loc is None:
        return "?"
    return f"{loc.get('file')}:{loc.get('line') or 1}"


def public_compound(kind, name):
    if kind == "file":
        return name.endswith(".hpp")
    return (name == "unipoll" or name.startswith("unipoll::")) and not (
        name == "unipoll::detail" or name.startswith("unipoll::detail::"))


def check_compound(path, problems):
    root = ET.parse(path).getroot()
    for compound in root.iter("compounddef"):
        name = compound.findtext("compoundname")
        if not described(compound):
            problems.append(f"{where(compound)}: {compound.get('kind')} {name} is not documented")
        for member in compound.iter("memberdef"):
            if member.get("prot", "public") != "public" or member.get("kind") == "friend":
                continue
            member_name = f"{name}::{member.findtext('name')}"
            if compound.get("kind") == "file":
                member_name = member.findtext("name")
            if not described(member):
                problems.append(f"{where(member)}: {member.get('kind')} {member_name} is not documented")
            for value in member.iter("enumvalue"):
                if not described(value):
                    problems.append(f"{where(member)}: enumerator {member_name}::"
                                    f"{value.findtext('name')} is not documented")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--xml", required=True, type=pathlib.Path, help="Doxygen's XML directory")
    parser.add_argument("--headers", required=True, nargs="+", type=pathlib.Path,
                        help="directories holding the public headers")
    args = parser.parse_args()

    index = ET.parse(args.xml / "index.xml").getroot()
    problems = []
    files_seen = set()
    checked = 0
    for compound in index.findall("compound"):
        kind, name = compound.get("kind"), compound.findtext("name")
        if kind not in COMPOUND_KINDS or not public_compound(kind, name):
            continue
        if kind == "file":
            files_seen.add(name)
        checked += 1
        check_compound(args.xml / f"{compound.get('refid')}.xml", problems)

    # A header Doxygen did not list has no file comment: its macros and
    # anything outside a namespace would go unchecked.
    headers = sorted(h for d in args.headers for h in d.glob("*.hpp"))
    if not headers:
        problems.append(f"no public headers found in {', '.join(map(str, args.headers))}")
    for header in headers:
        if header.name not in files_seen:
            problems.append(f"{header}:1: header has no Doxygen file comment (/// @file)")

    for p in problems:
        print(f"check-api-docs: {p}", file=sys.stderr)
    if problems:
        print(f"check-api-docs: {len(problems)} undocumented public name(s)", file=sys.stderr)
        return 1
    print(f"check-api-docs: {len(headers)} headers, {checked} compounds, every public name documented")
    return 0


if __name__ == "__main__":
    sys.exit(main())
