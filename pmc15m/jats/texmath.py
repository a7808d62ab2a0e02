"""TeX formulas (``<tex-math>``) as ``$…$`` text for captions.

TeX is kept as TeX, not rendered: it is already a linear notation that people and
tokenizers read, and a figure caption's formula is short. What must go is the wrapper PMC
puts around it (a whole ``\\documentclass … \\begin{document} $$…$$ \\end{document}``
file) and the display delimiters, so every formula reads the same way, between single
dollars, wherever it came from.
"""

from __future__ import annotations

import re

_WS = re.compile(r"\s+")
_TEX_DOC = re.compile(r"\\begin\{document\}(.*?)\\end\{document\}", re.S)
_TEX_DELIMS = (("$$", "$$"), ("$", "$"), ("\\[", "\\]"), ("\\(", "\\)"))
_TEX_PREAMBLE = re.compile(
    r"\\(?:documentclass|usepackage)(?:\[[^\]]*\])?\{[^}]*\}|\\setlength\{[^}]*\}\{[^}]*\}"
)


def clean_tex(tex: str) -> str:
    """TeX source as ``$…$``: document wrappers and display delimiters removed.

    PMC wraps many formulas in a whole ``\\documentclass … \\begin{document} $$…$$
    \\end{document}`` file; a caption needs only the formula itself.
    """
    match = _TEX_DOC.search(tex)
    body = match.group(1) if match else _TEX_PREAMBLE.sub(" ", tex)
    body = body.strip()
    for start, end in _TEX_DELIMS:
        if body.startswith(start) and body.endswith(end) and len(body) >= len(start) + len(end):
            body = body[len(start) : len(body) - len(end)].strip()
            break
    body = _WS.sub(" ", body)
    return f"${body}$" if body else ""
