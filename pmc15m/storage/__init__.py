"""Where bytes are written and read back, and how a long run survives: one file-system layer
for local paths and object stores (``fs``, ``objectstore``), the resume journal
(``journal``), progress lines (``progress``) and the bounded pool of reads in flight
(``inflight``).

May import: ``core``.
"""
