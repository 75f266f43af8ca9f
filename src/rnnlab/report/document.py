"""A document built once and written twice: Markdown and self-contained HTML."""


class Report:
    """A document built once and written twice: Markdown (images linked) and a
    self-contained HTML page (images embedded)."""

    def __init__(self, title: str, lang: str = "en"):
        self.title = title
        self.lang = lang  # the language it is written in: the HTML page's lang
        self.blocks: list[tuple] = []

    def heading(self, text: str, level: int = 2):
        self.blocks.append((f"h{level}", text))

    def text(self, text: str):
        self.blocks.append(("p", text))

    def code(self, text: str):
        self.blocks.append(("pre", text))

    def table(self, headers: list[str], rows: list[list]):
        self.blocks.append(("table", headers, [[str(cell) for cell in row] for row in rows]))

    def link(self, path: str, text: str):
        """A paragraph that is a link to `path`, relative to the report's folder."""
        self.blocks.append(("a", path, text))

    def image(self, path: str, caption: str):
        """`path` relative to the report's folder."""
        self.blocks.append(("img", path, caption))

    def to_markdown(self) -> str:
        out = [f"# {self.title}", ""]
        for kind, *args in self.blocks:
            if kind in ("h2", "h3"):
                out += ["#" * int(kind[1]) + f" {args[0]}", ""]
            elif kind == "p":
                out += [args[0], ""]
            elif kind == "pre":
                out += ["```", args[0], "```", ""]
            elif kind == "table":
                headers, rows = args
                out.append("| " + " | ".join(headers) + " |")
                out.append("|" + "---|" * len(headers))
                out += ["| " + " | ".join(row) + " |" for row in rows]
                out.append("")
            elif kind == "img":
                out += [f"![{args[1]}]({args[0]})", ""]
            elif kind == "a":
                out += [f"[{args[1]}]({args[0]})", ""]
        return "\n".join(out)

    def to_html(self, folder) -> str:
        from base64 import b64encode
        from html import escape
        from pathlib import Path

        body = [f"<h1>{escape(self.title)}</h1>"]
        for kind, *args in self.blocks:
            if kind in ("h2", "h3"):
                body.append(f"<{kind}>{escape(args[0])}</{kind}>")
            elif kind == "p":
                body.append(f"<p>{escape(args[0])}</p>")
            elif kind == "pre":
                body.append(f"<pre>{escape(args[0])}</pre>")
            elif kind == "a":
                body.append(f'<p><a href="{escape(args[0])}">{escape(args[1])}</a></p>')
            elif kind == "table":
                headers, rows = args
                head = "".join(f"<th>{escape(h)}</th>" for h in headers)
                cells = "".join(
                    "<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows
                )
                body.append(f"<table><tr>{head}</tr>{cells}</table>")
            elif kind == "img":
                data = b64encode((Path(folder) / args[0]).read_bytes()).decode("ascii")
                body.append(
                    f'<figure><img src="data:image/png;base64,{data}" alt="{escape(args[1])}">'
                    f"<figcaption>{escape(args[1])}</figcaption></figure>"
                )
        return _HTML_PAGE.format(
            lang=escape(self.lang), title=escape(self.title), body="\n".join(body)
        )

    def write(self, folder, name="report"):
        """Write NAME.md and NAME.html into `folder`; returns their paths."""
        from pathlib import Path

        from ..files import write_text

        folder = Path(folder)
        return (
            write_text(folder / f"{name}.md", self.to_markdown()),
            write_text(folder / f"{name}.html", self.to_html(folder)),
        )


_HTML_PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto;
        padding: 0 1rem; line-height: 1.5; color: #222; }}
pre {{ background: #f6f8fa; padding: .8rem; overflow-x: auto; font-size: .85rem; }}
table {{ border-collapse: collapse; margin: 1rem 0; }}
th, td {{ border: 1px solid #ccc; padding: .3rem .6rem; text-align: right; }}
th {{ background: #f0f0f0; }}
td:first-child, th:first-child {{ text-align: left; }}
img {{ max-width: 100%; }}
figcaption {{ color: #555; font-size: .9rem; }}
/* Korean: lines break between words, not syllables; in code blocks Hangul is two
   columns wide (Latin from DejaVu Sans Mono or Menlo, 0.602 em), so that aligned
   columns stay aligned. */
@font-face {{ font-family: "Hangul Mono"; unicode-range: U+1100-11FF, U+3130-318F, U+AC00-D7A3;
  src: local("Noto Sans Mono CJK KR"), local("NotoSansMonoCJKkr-Regular"), local("D2Coding"),
       local("NanumGothicCoding"); size-adjust: 120.4%; }}
:lang(ko) pre {{ font-family: "DejaVu Sans Mono", Menlo, "Hangul Mono", monospace; }}
:lang(ko) body {{ word-break: keep-all; overflow-wrap: break-word; }}
</style></head>
<body>
{body}
</body></html>
"""
