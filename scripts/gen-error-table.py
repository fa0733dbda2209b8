#!/usr/bin/env python3
"""Regenerate the error-code table in docs/PROTOCOL.md §13 from src/error.rs.

src/error.rs is the one place codes are defined; tests/protocol_doc.rs fails
when the table and the code disagree, and this script brings them back in line.
"""
import pathlib
import re

root = pathlib.Path(__file__).resolve().parent.parent
src = (root / "src/error.rs").read_text()
rows = []
for m in re.finditer(r"((?:[ \t]*///[^\n]*\n)+)[ \t]*([A-Za-z0-9]+) = (\d+),", src):
    doc = " ".join(l.strip()[3:].strip() for l in m.group(1).strip().splitlines())
    rows.append("| %s | %s | %s |" % (m.group(3), m.group(2), doc.replace("|", "\\|")))
doc_path = root / "docs/PROTOCOL.md"
doc = doc_path.read_text()
head = "| code | name | meaning |\n|---|---|---|\n"
start = doc.index(head) + len(head)
end = doc.index("\n## 14.")
doc_path.write_text(doc[:start] + "\n".join(rows) + "\n" + doc[end:])
print(f"{len(rows)} codes written to docs/PROTOCOL.md")
