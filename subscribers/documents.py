"""Documents: files kept outside the web root under their content hash, rows saying whose they are.

The type is decided by the file's first bytes (PDF, JPEG, PNG), never by its name or the browser's
word. A file is stored once at `<upload dir>/<sha256[:2]>/<sha256>`; two uploads of the same content
share it. The edge passes the upload directory (setting MADAM_UPLOAD_DIR) and the size limit.
"""

import hashlib
import os
import re
import tempfile
from pathlib import Path

from core.audit import audit
from core.errors import DomainError
from subscribers import validation as v
from subscribers.enums import DocumentKind
from subscribers.models import Contract, Document, Subscriber

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
# (magic bytes at the start, content type, extension)
SIGNATURES = (
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
)
_UNSAFE_NAME = re.compile(r"[^\w.\-\u0600-\u06ff\u200c ]+")


def sniff_content_type(head: bytes) -> str | None:
    for magic, content_type, _ext in SIGNATURES:
        if head.startswith(magic):
            return content_type
    return None


def extension_for(content_type: str) -> str:
    return next(ext for _magic, ct, ext in SIGNATURES if ct == content_type)


def safe_filename(name: str | None, content_type: str) -> str:
    base = _UNSAFE_NAME.sub("_", Path(name or "").name).strip(" ._") or "document"
    stem = base.rsplit(".", 1)[0][:100] or "document"
    return f"{stem}.{extension_for(content_type)}"


def stored_path(upload_dir: str | Path, sha256: str) -> Path:
    if not re.fullmatch(r"[0-9a-f]{64}", sha256):
        raise ValueError("not a sha256 hex digest")
    return Path(upload_dir) / sha256[:2] / sha256


def store_content(upload_dir: str | Path, content: bytes) -> str:
    """Write the bytes under their hash (atomically, once) and return the hash."""
    digest = hashlib.sha256(content).hexdigest()
    target = stored_path(upload_dir, digest)
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        with os.fdopen(fd, "wb") as out:
            out.write(content)
        os.replace(temporary, target)
    return digest


def check_content(content: bytes, max_bytes: int) -> str:
    """The content type of an acceptable file, or a DomainError saying why it is refused."""
    if not content:
        raise DomainError("document.empty", field="file")
    if len(content) > max_bytes:
        raise DomainError("document.too_large", field="file", maximum_mb=max_bytes // (1024 * 1024))
    content_type = sniff_content_type(content[:16])
    if content_type is None:
        raise DomainError("document.type_not_allowed", field="file")
    return content_type


def attach_document(session, actor, *, subscriber_id: int | None, kind: str, filename: str | None, content: bytes,
                    upload_dir: str | Path, max_bytes: int = DEFAULT_MAX_BYTES, contract_id: int | None = None,
                    request_id: int | None = None) -> Document:
    """Store a file and record whose it is: a subscriber's, a request's (procedure instance), or both."""
    subscriber = session.get(Subscriber, subscriber_id) if subscriber_id is not None else None
    if subscriber is None and (subscriber_id is not None or request_id is None):
        raise DomainError("subscriber.not_found", field="subscriber_id")
    kind = v.choice(kind, list(DocumentKind), "kind")
    if contract_id is not None:
        contract = session.get(Contract, contract_id)
        if contract is None or subscriber is None or contract.subscriber_id != subscriber.id:
            raise DomainError("contract.not_found", field="contract_id")
    content_type = check_content(content, max_bytes)
    digest = store_content(upload_dir, content)
    document = Document(kind=kind, filename=safe_filename(filename, content_type), content_type=content_type,
                        size=len(content), sha256=digest, subscriber_id=subscriber_id, contract_id=contract_id,
                        request_id=request_id, uploaded_by_id=getattr(actor, "id", None))
    session.add(document)
    session.flush()
    audit(session, actor, "document.attached", document, subscriber_id=subscriber_id, request_id=request_id,
          kind=kind, sha256=digest, size=len(content))
    return document
