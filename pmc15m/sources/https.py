"""The bucket over plain HTTPS with ``requests``: no AWS tooling, works behind proxies.

``--source`` names the bucket's base URL, virtual-host style
(``https://pmc-oa-opendata.s3.amazonaws.com``) or path style
(``https://s3.amazonaws.com/pmc-oa-opendata``, or any mirror's base URL); an object is
``<base>/<key>``. Inventory reports are found with the S3 ListObjectsV2 API
(``<base>/?list-type=2&prefix=...&delimiter=/``), parsed with a parser that resolves no
entities and loads no DTD. A mirror that serves plain files and cannot list still works
with a pinned ``--inventory_date``. ``requests``/urllib3 retries are off (``pmc15m.sources.retry``
owns them); bodies are read undecoded so their length and MD5 are the object's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

import requests
import urllib3.exceptions as ux
from lxml import etree
from requests.adapters import HTTPAdapter

from pmc15m.sources.errors import ObjectMissing, SourceError
from pmc15m.sources.options import SourceOptions
from pmc15m.sources.remote import RemoteSource, check_body, raise_for_status
from pmc15m.sources.retry import CONNECTION, SHORT_READ, TIMEOUT, TransientError

_ERROR_CODE = re.compile(rb"<Code>([A-Za-z]{1,64})</Code>")
_MAX_LISTING_BYTES = 16 * 1024 * 1024  # a ListObjectsV2 page holds at most 1000 entries


@dataclass(frozen=True, slots=True)
class ListPage:
    """One page of a ListObjectsV2 answer: the common prefixes and where to go on."""

    prefixes: tuple[str, ...]
    truncated: bool
    next_token: str


def _listing_error(detail: str) -> ObjectMissing:
    return ObjectMissing(
        f"not an S3 ListObjectsV2 answer ({detail}); a mirror that cannot list needs --inventory_date"
    )


def parse_list_page(data: bytes) -> ListPage:
    """Parse a ListObjectsV2 XML page safely (no entities, no DTD, no network)."""
    if len(data) > _MAX_LISTING_BYTES:
        raise _listing_error(f"{len(data)} bytes")
    parser = etree.XMLParser(
        resolve_entities=False, load_dtd=False, no_network=True, dtd_validation=False, huge_tree=False
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise _listing_error(f"malformed XML: {exc}") from exc
    if root.getroottree().docinfo.doctype:
        raise _listing_error("it declares a DOCTYPE")
    if etree.QName(root).localname != "ListBucketResult":
        raise _listing_error(f"root element {etree.QName(root).localname}")
    prefixes = tuple(el.text or "" for el in root.findall("{*}CommonPrefixes/{*}Prefix"))
    truncated = (root.findtext("{*}IsTruncated") or "").strip().lower() == "true"
    return ListPage(prefixes, truncated, (root.findtext("{*}NextContinuationToken") or "").strip())


def _innermost(exc: BaseException) -> BaseException:
    """The error under requests' and urllib3's wrappers (``MaxRetryError`` and the like)."""
    for _ in range(8):
        inner = getattr(exc, "reason", None)
        if not isinstance(inner, BaseException) and exc.args and isinstance(exc.args[0], BaseException):
            inner = exc.args[0]
        if not isinstance(inner, BaseException):
            break
        exc = inner
    return exc


def _classify(exc: Exception, what: str) -> TransientError:
    detail = f"{what}: {_innermost(exc)}"
    if isinstance(exc, (requests.Timeout, ux.TimeoutError)):
        return TransientError(TIMEOUT, detail)
    if isinstance(exc, (requests.exceptions.ChunkedEncodingError, ux.ProtocolError)) and (
        "IncompleteRead" in str(exc) or "ended prematurely" in str(exc)
    ):
        return TransientError(SHORT_READ, detail)
    return TransientError(CONNECTION, detail)


_FAILURES = (requests.RequestException, ux.HTTPError, OSError)


class HttpsSource(RemoteSource):
    """A bucket at an ``https://`` (or ``http://``) base URL; see the module docstring."""

    def __init__(
        self, location: str, inventory_date: str | None = None, options: SourceOptions | None = None
    ) -> None:
        options = options or SourceOptions()
        parts = urlsplit(location)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise SourceError(f"an HTTPS source is named https://<host>[/<bucket>], got {location!r}")
        if parts.username or parts.password:
            # They would end in logs, error messages and the build manifest.
            raise SourceError("credentials in the source URL are not supported")
        self.base = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
        super().__init__(location, inventory_date, options, self.base)
        self.timeout = (options.connect_timeout, options.read_timeout)
        self.session = requests.Session()
        adapter = HTTPAdapter(
            pool_connections=1, pool_maxsize=options.concurrency, max_retries=0, pool_block=True
        )
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers["Accept-Encoding"] = "identity"

    def _get(self, url: str, what: str, params: dict[str, str] | None = None) -> tuple[bytes, dict[str, str]]:
        """One GET: the body (undecoded) and headers of a 200, else the classified failure."""
        try:
            with self.session.get(url, params=params, timeout=self.timeout, stream=True) as response:
                if response.status_code != 200:
                    found = _ERROR_CODE.search(response.raw.read(65536, decode_content=False) or b"")
                    raise_for_status(response.status_code, what, found.group(1).decode() if found else "")
                return response.raw.read(decode_content=False), dict(response.headers)
        except _FAILURES as exc:
            raise _classify(exc, what) from exc

    def _get_once(self, key: str) -> bytes:
        body, headers = self._get(f"{self.base}/{quote(key, safe='/')}", key)
        return check_body(key, body, headers)

    def _list_once(self, prefix: str) -> list[str]:
        url = self.base if urlsplit(self.base).path else f"{self.base}/"
        names: list[str] = []
        token = ""
        while True:
            params = {"list-type": "2", "prefix": prefix, "delimiter": "/"}
            if token:
                params["continuation-token"] = token
            body, _ = self._get(url, f"listing {prefix}", params)
            page = parse_list_page(body)
            names.extend(p[len(prefix) :].rstrip("/") for p in page.prefixes if p.startswith(prefix))
            if not page.truncated:
                return names
            if not page.next_token or page.next_token == token:
                raise _listing_error("truncated without a continuation token")
            token = page.next_token
