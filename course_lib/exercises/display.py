"""How exercise feedback looks: a coloured box in JupyterLab, plain text in a terminal.

Everything here turns already-computed feedback into something to look at;
nothing here decides whether an answer is right (that is ``core.py``).

Each displayable object (``Feedback``) carries both an HTML and a plain-text
form. Inside a Jupyter kernel we hand it to IPython's ``display``, and the
front end picks the richest form it can show (JupyterLab: HTML; a terminal
IPython: text). Outside IPython we simply ``print`` the text.
"""

import html

# Colours chosen for contrast (WCAG AA or better for the text on its background)
# and fixed explicitly, so the boxes stay readable under a dark JupyterLab theme too.
STYLES = {
    "correct": {"symbol": "✓", "word": "Correct", "border": "#1e7e34", "background": "#e6f4ea", "text": "#0b3d1a"},
    "incorrect": {"symbol": "✗", "word": "Incorrect", "border": "#b02a37", "background": "#fdecea", "text": "#5c0f16"},
    "not attempted": {"symbol": "…", "word": "Not attempted", "border": "#6c757d", "background": "#f1f3f5", "text": "#212529"},
    "hint": {"symbol": "»", "word": "Hint", "border": "#8a6d00", "background": "#fff8e1", "text": "#3d3000"},
    "solution": {"symbol": "✎", "word": "Solution", "border": "#1f5fa8", "background": "#e8f1fb", "text": "#0d2a4a"},
    "progress": {"symbol": "☰", "word": "Progress", "border": "#495057", "background": "#f8f9fa", "text": "#212529"},
}


def in_ipython():
    """True when running inside IPython (a Jupyter kernel or the IPython terminal)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    return get_ipython() is not None


def show(obj):
    """Display ``obj`` (anything with ``_repr_html_`` and ``__str__``) the best way available."""
    if in_ipython():
        from IPython.display import display

        display(obj)
    else:
        print(str(obj))


def _box(style_name, title, body_html):
    """A bordered, coloured box with a bold title line and an HTML body."""
    style = STYLES[style_name]
    return (
        f'<div class="descent-feedback descent-{style_name.replace(" ", "-")}" role="status" '
        f'style="border-left: 6px solid {style["border"]}; background: {style["background"]}; '
        f'color: {style["text"]}; padding: 0.6em 0.9em; margin: 0.4em 0; border-radius: 4px; '
        f'font-family: var(--jp-content-font-family, sans-serif); line-height: 1.45;">'
        f'<div style="font-weight: bold; font-size: 1.05em;">'
        f'<span aria-hidden="true">{style["symbol"]}</span> {html.escape(title)}</div>'
        f"{body_html}</div>"
    )


def _pre(text, colour):
    return (
        f'<pre style="background: transparent; color: {colour}; margin: 0.4em 0 0 0; padding: 0; '
        f'white-space: pre-wrap; font-size: 0.92em;">{html.escape(text)}</pre>'
    )


def inline_code_html(text):
    """Escape ``text`` for HTML and render `backticked` parts as <code>."""
    parts = html.escape(text).split("`")
    out = []
    for index, part in enumerate(parts):
        if index % 2 == 1 and index < len(parts) - 1:
            out.append(f"<code>{part}</code>")
        else:
            out.append(part if index % 2 == 0 else "`" + part)
    return "".join(out)


def highlight_python_html(code):
    """Python source as syntax-highlighted HTML (Pygments when installed, plain otherwise)."""
    try:
        from pygments import highlight
        from pygments.formatters import HtmlFormatter
        from pygments.lexers import PythonLexer
    except ImportError:  # pragma: no cover - Pygments ships with IPython
        return f"<pre>{html.escape(code)}</pre>"
    formatter = HtmlFormatter(noclasses=True, style="default", nowrap=False)
    return highlight(code, PythonLexer(), formatter)


class Feedback:
    """Something to show the learner: a titled box (HTML) or a few lines (text).

    ``kind`` is one of the keys of ``STYLES``; ``title`` is the first line;
    ``summary`` one sentence; ``details`` optional preformatted lines (the
    diagnostic); ``code`` optional Python source shown highlighted.
    """

    def __init__(self, kind, title, summary="", details="", code=""):
        self.kind = kind
        self.title = title
        self.summary = summary
        self.details = details
        self.code = code

    def __str__(self):
        style = STYLES[self.kind]
        first = f"{style['symbol']} {self.title}"
        if self.summary:
            first += f": {self.summary}"
        lines = [first]
        if self.details:
            lines += ["    " + line for line in self.details.splitlines()]
        if self.code:
            lines += ["    " + line for line in self.code.splitlines()]
        return "\n".join(lines)

    def __repr__(self):
        return str(self)

    def _repr_html_(self):
        style = STYLES[self.kind]
        body = ""
        if self.summary:
            body += f'<div style="margin-top: 0.2em;">{inline_code_html(self.summary)}</div>'
        if self.details:
            body += _pre(self.details, style["text"])
        if self.code:
            body += (
                '<div style="background: #ffffff; color: #000000; margin-top: 0.4em; '
                f'padding: 0.3em 0.6em; border-radius: 3px;">{highlight_python_html(self.code)}</div>'
            )
        return _box(self.kind, self.title, body)


class ProgressTable:
    """A lesson's progress: one row per question (symbol, name, status) and a count."""

    def __init__(self, title, rows):
        self.title = title
        self.rows = list(rows)  # (key, question name, status)

    @property
    def n_correct(self):
        return sum(1 for _, _, status in self.rows if status == "correct")

    def summary(self):
        return f"{self.n_correct} of {len(self.rows)} correct"

    def __str__(self):
        lines = [f"{STYLES['progress']['symbol']} {self.title}: {self.summary()}"]
        for key, name, status in self.rows:
            style = STYLES[status]
            lines.append(f"    {style['symbol']} {key} ({name}): {style['word'].lower()}")
        return "\n".join(lines)

    def __repr__(self):
        return str(self)

    def _repr_html_(self):
        rows = []
        for key, name, status in self.rows:
            style = STYLES[status]
            rows.append(
                f'<tr><td style="color: {style["border"]}; font-weight: bold; padding: 0 0.6em 0 0;">'
                f'<span aria-hidden="true">{style["symbol"]}</span></td>'
                f'<td style="padding: 0 0.8em 0 0;"><code>{html.escape(key)}</code> {html.escape(name)}</td>'
                f'<td>{style["word"].lower()}</td></tr>'
            )
        table = (
            '<table style="border-collapse: collapse; margin-top: 0.3em; background: transparent;">'
            + "".join(rows)
            + "</table>"
        )
        return _box("progress", f"{self.title}: {self.summary()}", table)
