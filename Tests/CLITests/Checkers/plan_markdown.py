"""Parses a `maifctl plan --format markdown` comment with markdown-it-py (CommonMark + GFM tables) and prints what a
reader of the rendered comment sees, as JSON, for the CLI tests to check:
  first_block      the type and text of the first block (the summary line)
  tables           each table as rows of cell texts, the header row first
  details          each <details> block: its <summary> text and the fenced block inside it (info string, text)
  fences           every other fenced block: info string and text (the mermaid graph, the drift)
  headings, quotes the section headings, the block quotes' text (notes and warnings)
  html_blocks      every raw HTML block (the marker line is one)
  bytes            the document's size in UTF-8 bytes
"""
import json
import re
import sys

from markdown_it import MarkdownIt


def main(path):
    text = open(path, encoding="utf-8").read()
    md = MarkdownIt("commonmark").enable("table")
    tokens = md.parse(text)
    out = {"bytes": len(text.encode("utf-8")), "first_block": None, "tables": [], "details": [], "fences": [],
           "headings": [], "quotes": [], "html_blocks": []}
    i = 0
    open_details = None
    while i < len(tokens):
        t = tokens[i]
        if out["first_block"] is None:
            opening = t.type.endswith("_open")
            out["first_block"] = {"type": t.type.replace("_open", ""),
                                  "text": tokens[i + 1].content if opening and i + 1 < len(tokens) else t.content}
        if t.type == "table_open":
            rows, row = [], None
            i += 1
            while tokens[i].type != "table_close":
                tt = tokens[i]
                if tt.type == "tr_open":
                    row = []
                elif tt.type == "tr_close":
                    rows.append(row)
                elif tt.type == "inline":
                    row.append(tt.content)
                i += 1
            out["tables"].append(rows)
        elif t.type == "heading_open":
            out["headings"].append(tokens[i + 1].content)
        elif t.type == "blockquote_open":
            depth, parts = 1, []
            i += 1
            while depth:
                tt = tokens[i]
                depth += tt.type == "blockquote_open"
                depth -= tt.type == "blockquote_close"
                if tt.type == "inline":
                    parts.append(tt.content)
                i += 1
            out["quotes"].append("\n".join(parts))
            continue
        elif t.type == "html_block":
            out["html_blocks"].append(t.content)
            if t.content.startswith("<details>"):
                m = re.search(r"<summary>(.*?)</summary>", t.content, re.S)
                open_details = {"summary": re.sub(r"<[^>]+>", "", m.group(1)) if m else None, "fence": None, "raw_summary": m.group(1) if m else None}
            elif t.content.strip() == "</details>" and open_details is not None:
                out["details"].append(open_details)
                open_details = None
        elif t.type == "fence":
            if open_details is not None:
                open_details["fence"] = {"info": t.info, "text": t.content}
            else:
                out["fences"].append({"info": t.info, "text": t.content})
        i += 1
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])
