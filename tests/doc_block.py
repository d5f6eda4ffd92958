#!/usr/bin/env python3
"""Writes the ```cpp block of a Markdown file whose first line is
"// test: NAME" to OUTPUT, so that the C++ suite builds and runs the
program a doc shows, exactly as written there.

Usage: doc_block.py DOC.md NAME OUTPUT
"""
import sys


def block(doc, name):
    lines = open(doc, encoding="utf-8").read().split("\n")
    for i, line in enumerate(lines):
        if line == "```cpp" and i + 1 < len(lines) and lines[i + 1] == "// test: " + name:
            end = lines.index("```", i + 1)
            return "\n".join(lines[i + 1 : end]) + "\n"
    sys.exit(f"{doc}: no ```cpp block starting with '// test: {name}'")


if __name__ == "__main__":
    doc, name, output = sys.argv[1:4]
    with open(output, "w", encoding="utf-8") as out:
        out.write(block(doc, name))
