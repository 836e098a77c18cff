#!/usr/bin/env python3
"""Fails when a reference to a Markdown file or section leads nowhere.

Scans every file git tracks in this repository (text files only) for

  * names of Markdown files, `docs/semantics.md` or a bare `semantics.md`;
  * Markdown links to them, `[text](faults.md)`, also with an anchor,
    `[text](semantics.md#timeouts)`;
  * section references: `§` followed by a heading in double quotes, after a
    Markdown file name, as in README.md §"License", or alone inside a
    Markdown file for one of its own headings.

A file name must name a tracked file, relative to the repository root or to
the citing file's directory; a bare name may also be the name of exactly one
tracked Markdown file. An anchor or a quoted heading must be a heading of
that file. Every `§` must have that form. Files the project's tools write
(OUTPUTS) are not sources and are exempt. Run by ci/test.sh; exit status 1
lists each broken reference as file:line.
"""
import pathlib
import re
import subprocess
import sys

# Reports written by the project's own tools (ci/conformance_report.py,
# unipoll-compare), named in their usage texts and docs.
OUTPUTS = {"conformance.md", "report.md", "merged.md", "OUT.md"}

MD_NAME = re.compile(r"(?<![\w./-])((?:[\w.-]+/)*[\w.-]*\w\.md)(?![\w-])")
MD_LINK = re.compile(r"\]\(([^)\s]*?\.md)(#[^)\s]*)?\)")
SECTION = re.compile(r'(?:((?:[\w.-]+/)*[\w.-]*\w\.md)\s+)?§"([^"\n]+)"')
URL = re.compile(r"\w+://\S+")


def tracked_files(root):
    out = subprocess.run(["git", "-C", str(root), "ls-files", "-z"], check=True,
                         capture_output=True).stdout.decode()
    return [pathlib.PurePosixPath(p) for p in out.split("\0") if p]


def slug(heading):
    """GitHub's anchor for a heading."""
    s = heading.strip().lower()
    s = re.sub(r"[^\w\- ]", "", s)
    return s.replace(" ", "-")


def plain(heading):
    """A heading as text: Markdown emphasis and code marks dropped."""
    return re.sub(r"[`*_]", "", heading).strip()


class Repo:
    def __init__(self, root):
        self.root = root
        self.files = tracked_files(root)
        self.paths = {str(p) for p in self.files}
        self.md_by_name = {}
        for p in self.files:
            if p.suffix == ".md":
                self.md_by_name.setdefault(p.name, []).append(str(p))
        self._headings = {}

    def text(self, path):
        try:
            return (self.root / path).read_text(encoding="utf-8")
        except (UnicodeDecodeError, IsADirectoryError, FileNotFoundError):
            return None

    def headings(self, path):
        if path not in self._headings:
            found = set()
            in_code = False
            for line in (self.text(path) or "").splitlines():
                if line.startswith("```"):
                    in_code = not in_code
                elif not in_code and (m := re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)):
                    found.add(plain(m.group(1)))
            self._headings[path] = found
        return self._headings[path]

    def resolve(self, name, citing):
        """The tracked path `name` refers to from file `citing`, or None."""
        for candidate in (pathlib.PurePosixPath(name),
                          pathlib.PurePosixPath(citing).parent / name):
            norm = str(pathlib.PurePosixPath(*_normalise(candidate.parts)))
            if norm in self.paths:
                return norm
        if "/" not in name and len(self.md_by_name.get(name, [])) == 1:
            return self.md_by_name[name][0]
        return None


def _normalise(parts):
    out = []
    for part in parts:
        if part == "..":
            if out:
                out.pop()
        elif part != ".":
            out.append(part)
    return out or ["."]


def check_file(repo, path, problems):
    text = repo.text(path)
    if text is None:
        return
    is_md = path.endswith(".md")
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = URL.sub("", raw)
        where = f"{path}:{lineno}"

        for m in MD_LINK.finditer(line):
            target, anchor = m.group(1), m.group(2)
            resolved = repo.resolve(target, path)
            if resolved is None:
                problems.append(f"{where}: link to {target}: no such file in the project")
            elif anchor and anchor[1:] not in {slug(h) for h in repo.headings(resolved)}:
                problems.append(f"{where}: link to {target}{anchor}: no such heading")

        for m in MD_NAME.finditer(line):
            name = m.group(1)
            if pathlib.PurePosixPath(name).name in OUTPUTS:
                continue
            if repo.resolve(name, path) is None:
                problems.append(f"{where}: {name}: no such file in the project")

        parsed = 0
        for m in SECTION.finditer(line):
            parsed += 1
            name, heading = m.group(1), plain(m.group(2))
            if name is None and not is_md:
                problems.append(f'{where}: §"{heading}" names no file')
                continue
            resolved = path if name is None else repo.resolve(name, path)
            if resolved is None:
                continue  # reported above as a missing file
            if heading not in repo.headings(resolved):
                problems.append(f'{where}: {resolved} has no heading "{heading}"')
        if line.count("§") != parsed:
            problems.append(f'{where}: § must be followed by a quoted heading, as in '
                            f'docs/semantics.md §"Timeouts"')


def main():
    root = pathlib.Path(__file__).resolve().parent.parent
    repo = Repo(root)
    problems = []
    this_file = str(pathlib.PurePosixPath(*pathlib.Path(__file__).resolve().relative_to(root).parts))
    for p in repo.files:
        # This file holds the patterns and their descriptions, not references.
        if str(p) != this_file:
            check_file(repo, str(p), problems)
    for p in problems:
        print(f"check-references: {p}", file=sys.stderr)
    if problems:
        print(f"check-references: {len(problems)} broken reference(s)", file=sys.stderr)
        return 1
    print(f"check-references: {len(repo.files)} files, every Markdown and § reference resolves")
    return 0


if __name__ == "__main__":
    sys.exit(main())
