"""The knowledge base on a Chroma server (`knowledge_url`): connecting, the release check, and the
manifest kept on the server beside the chunks.

With ``knowledge_url`` set, every machine of a programme searches one knowledge base: the chunks
live in the Chroma database ``knowledge_database`` (created in the default tenant when missing),
and so does the manifest, in the companion collection ``coach.manifest``, so that every machine
agrees on which file versions are committed. Only the keyword (BM25) index stays local, as a cache
keyed by server, database, collection and the generation token that every commit replaces.

One machine writes. The write lock is a file lock on the machine that writes, so two machines
writing the same server at once are not kept apart: the facilitator adds documents and runs
`coach knowledge sync`; the pairs' machines only read (they never sync built-in guides on start).
"""

from __future__ import annotations

import contextlib
import hashlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from coach.knowledge.manifest import SourceRecord

MANIFEST_COLLECTION = "coach.manifest"
"""The companion collection holding the manifest; no Coach collection may take this name."""

SERVER_API_VERSION = "1.0.0"
"""What `chroma run` of chromadb 1.x reports as its version: the version of its HTTP API, not the
release (chroma-core/chroma#4849). A server reporting this is accepted as the client's release;
any other version that is not the client's own is refused."""

CONNECT_TIMEOUT_S = 5.0
REQUEST_TIMEOUT_S = 120.0
TENANT = "default_tenant"


class KnowledgeServerError(Exception):
    """The Chroma server cannot be used; the message is one line with the URL and the reason."""


class KnowledgeServerUnavailable(KnowledgeServerError, ConnectionError):
    """The server did not answer (refused, timed out, not a Chroma server)."""


class KnowledgeServerMismatch(KnowledgeServerError):
    """The server runs another chromadb release than Coach's client."""


def client_version() -> str:
    import chromadb

    return chromadb.__version__


@dataclass(frozen=True)
class ServerAddress:
    url: str
    host: str
    port: int
    ssl: bool

    @classmethod
    def parse(cls, url: str) -> ServerAddress:
        parts = urlsplit(url)
        ssl = parts.scheme == "https"
        return cls(url, parts.hostname or "", parts.port or (443 if ssl else 80), ssl)


def _chroma_settings(address: ServerAddress) -> Any:
    from chromadb.config import Settings as ChromaSettings

    return ChromaSettings(
        chroma_api_impl="chromadb.api.fastapi.FastAPI",
        chroma_server_host=address.host,
        chroma_server_http_port=address.port,
        chroma_server_ssl_enabled=address.ssl,
        anonymized_telemetry=False,
        allow_reset=False,
    )


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:300]


def location(url: str, database: str) -> str:
    """A server knowledge base as messages name it."""
    return f"{url} (database {database})"


def unavailable(url: str, exc: BaseException) -> KnowledgeServerUnavailable:
    return KnowledgeServerUnavailable(f"the Chroma server at {url} is unavailable: {_reason(exc)}")


@contextlib.contextmanager
def reachable(url: str) -> Iterator[None]:
    """Turn a failed request to the server into one KnowledgeServerUnavailable with the URL."""
    import httpx

    try:
        yield
    except KnowledgeServerError:
        raise
    except (httpx.HTTPError, OSError) as exc:
        raise unavailable(url, exc) from None


def _admin(address: ServerAddress) -> Any:
    import chromadb

    with reachable(address.url):
        try:
            admin = chromadb.AdminClient(_chroma_settings(address))
        except ValueError as exc:  # chromadb reports a bad host this way
            raise unavailable(address.url, exc) from None
    # chromadb's HTTP session has no timeout at all: a server that drops packets would hang a
    # command (or the TUI's loader) for ever. The session is shared by every client of this
    # server in the process, so this covers the HttpClient made next as well.
    session = getattr(admin._server, "_session", None)
    if session is not None:
        import httpx

        session.timeout = httpx.Timeout(REQUEST_TIMEOUT_S, connect=CONNECT_TIMEOUT_S)
    return admin


def check_version(api: Any, url: str) -> str:
    """The server's reported version; KnowledgeServerMismatch unless it is the client's release."""
    from chromadb.errors import ChromaError

    with reachable(url):
        try:
            version = str(api.get_version())
        except ChromaError as exc:
            raise unavailable(url, exc) from None
    mine = client_version()
    if version not in (mine, SERVER_API_VERSION):
        raise KnowledgeServerMismatch(
            f"the Chroma server at {url} runs {version}; Coach's client is {mine}:"
            " run `chroma run` from the same chromadb release"
        )
    return version


@dataclass
class ServerConnection:
    url: str
    database: str
    server_version: str
    client: Any
    """A chromadb HttpClient on ``database``, or None when it does not exist (probe only)."""


def connect(url: str, database: str, *, create: bool = True) -> ServerConnection:
    """Connect, check the release, and open ``database`` (created first when ``create``)."""
    import chromadb
    from chromadb.errors import ChromaError, NotFoundError

    address = ServerAddress.parse(url)
    admin = _admin(address)
    version = check_version(admin._server, url)
    with reachable(url):
        try:
            try:
                admin.get_database(database, tenant=TENANT)
            except NotFoundError:
                if not create:
                    return ServerConnection(url, database, version, None)
                try:
                    admin.create_database(database, tenant=TENANT)
                except ChromaError as exc:
                    if "already exists" not in str(exc):  # another machine was quicker
                        raise
            client = chromadb.HttpClient(
                host=address.host,
                port=address.port,
                ssl=address.ssl,
                settings=_chroma_settings(address),
                tenant=TENANT,
                database=database,
            )
        except ChromaError as exc:
            raise KnowledgeServerUnavailable(
                f"the Chroma server at {url} refused database {database!r}: {_reason(exc)}"
            ) from None
    return ServerConnection(url, database, version, client)


def stable_key(*parts: str) -> str:
    """A short, stable id for ``parts`` (record ids, local cache folders)."""
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:40]


class ServerManifest:
    """The ``Manifest`` interface, kept in the ``coach.manifest`` collection of the database.

    One record per committed source, one per pending source and one generation record per
    collection. A commit writes the source record first and then a new random generation token,
    so a reader that reads the token before the content never labels new content with an old
    token for good, and two writers can never produce the same token (no lost increment).
    """

    def __init__(self, connection: ServerConnection) -> None:
        from coach.knowledge.store import _embedding_function

        self.url = connection.url
        self._sources: dict[str, tuple[str, dict[str, SourceRecord]]] = {}
        with reachable(self.url):
            self._records = connection.client.get_or_create_collection(
                MANIFEST_COLLECTION,
                configuration={"hnsw": {"space": "l2"}},
                embedding_function=_embedding_function(),
            )

    def close(self) -> None:
        pass

    def _get(self, where: dict[str, Any]) -> Iterator[dict[str, Any]]:
        offset = 0
        while True:
            with reachable(self.url):
                page = self._records.get(
                    where=where, limit=5000, offset=offset, include=["metadatas"]
                )
            if not page["ids"]:
                return
            yield from page["metadatas"]
            offset += len(page["ids"])

    def _put(self, record_id: str, metadata: dict[str, Any]) -> None:
        with reachable(self.url):
            self._records.upsert(
                ids=[record_id], embeddings=[[0.0]], documents=[""], metadatas=[metadata]
            )

    def _delete(self, record_id: str) -> None:
        with reachable(self.url):
            self._records.delete(ids=[record_id])

    def sources(self, collection: str) -> dict[str, SourceRecord]:
        """The committed sources; cached per generation token, since reading every source record
        costs ~45 ms at 500 sources and reading the token ~1 ms (every search asks)."""
        token = self.generation(collection)  # before the records: never newer than they are
        cached = self._sources.get(collection)
        if cached is None or cached[0] != token:
            cached = (token, self._read_sources(collection))
            self._sources[collection] = cached
        return dict(cached[1])

    def _read_sources(self, collection: str) -> dict[str, SourceRecord]:
        found = [
            SourceRecord(
                str(m["source"]),
                str(m["content_hash"]),
                str(m["embedder"]),
                int(m["chunks"]),
                str(m["title"]),
                int(m["size"]),
                float(m["ingested_at"]),
                str(m["origin"]),
                tuple(t for t in str(m["topics"]).split(",") if t),
            )
            for m in self._get({"$and": [{"kind": "source"}, {"collection": collection}]})
        ]
        return {r.source: r for r in sorted(found, key=lambda r: r.source)}

    def collections(self) -> list[str]:
        return sorted({str(m["collection"]) for m in self._get({"kind": "source"})})

    def generation(self, collection: str) -> str:
        with reachable(self.url):
            found = self._records.get(ids=[f"generation:{collection}"], include=["metadatas"])
        return str(found["metadatas"][0]["token"]) if found["ids"] else "0"

    def mark_pending(self, collection: str, source: str) -> None:
        self._put(
            f"pending:{stable_key(collection, source)}",
            {"kind": "pending", "collection": collection, "source": source},
        )

    def pending(self, collection: str) -> list[str]:
        where = {"$and": [{"kind": "pending"}, {"collection": collection}]}
        return sorted(str(m["source"]) for m in self._get(where))

    def clear_pending(self, collection: str, source: str) -> None:
        self._delete(f"pending:{stable_key(collection, source)}")

    def commit(self, collection: str, record: SourceRecord | None, source: str) -> None:
        """Make ``record`` the live version of ``source`` (or remove it when ``record`` is None)."""
        import time

        record_id = f"source:{stable_key(collection, source)}"
        if record is None:
            self._delete(record_id)
        else:
            self._put(
                record_id,
                {
                    "kind": "source",
                    "collection": collection,
                    "source": record.source,
                    "content_hash": record.content_hash,
                    "embedder": record.embedder,
                    "chunks": record.chunks,
                    "title": record.title,
                    "size": record.size,
                    "ingested_at": record.ingested_at or time.time(),
                    "origin": record.origin,
                    "topics": ",".join(record.topics),
                },
            )
        self._put(
            f"generation:{collection}",
            {"kind": "generation", "collection": collection, "token": uuid.uuid4().hex},
        )
