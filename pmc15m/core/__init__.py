"""What every layer shares and nothing below it: the typed records that travel the pipeline
(``record``), the closed vocabulary of rejection reasons (``reasons``), the build
configuration (``config``), the one user error the command prints as a line (``errors``),
plain-text hygiene (``text``) and the argument types of the command line (``argtypes``).

May import: the standard library and third-party packages only, never another concept.
"""
