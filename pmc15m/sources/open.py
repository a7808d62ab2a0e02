"""``open_source``: the source a ``--source`` string names.

A source is named by a string (a directory, ``s3://bucket``, ``https://host``) so that a
Beam DoFn can carry the string across process boundaries and open its own client in
``setup``; sources themselves are not pickled. This module is the one place that knows
every concrete source, so none of them (nor the interface) has to import the others.

May import: the modules of ``pmc15m.sources``. Imported by the pipelines and the build
command (lazily there: boto3 and requests load with it).
"""

from __future__ import annotations

import os

from pmc15m.sources.base import Source
from pmc15m.sources.https import HttpsSource
from pmc15m.sources.legacy import LegacySource
from pmc15m.sources.local import LocalSource
from pmc15m.sources.options import SourceOptions
from pmc15m.sources.s3 import S3Source


def open_source(
    location: str, inventory_date: str | None = None, options: SourceOptions | None = None
) -> Source:
    """The source a user names with ``--source``: ``s3://bucket``, an ``https://`` base URL,
    or a local directory (a legacy oa_package mirror when it holds ``oa_file_list.csv``).
    ``options`` (connection settings) matter to remote sources only.
    """
    if location.startswith("s3://"):
        return S3Source(location, inventory_date, options)
    if location.startswith(("http://", "https://")):
        return HttpsSource(location, inventory_date, options)
    if os.path.isfile(os.path.join(location, "oa_file_list.csv")):
        return LegacySource(location, inventory_date=inventory_date)
    return LocalSource(location, inventory_date=inventory_date)
