"""Official-data imports from the web: the same `run_import` as `handrail data import`.

All or nothing, as on the command line: the uploaded file is checked and parsed inside one
transaction of the official-data store, the first malformed row stops the import with the
file name and line, and nothing is kept. The running app sees a new release at its next
evaluation (handrail.web.visits.engine follows the store), no restart.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile

from handrail.officialdata.errors import OfficialDataError
from handrail.officialdata.files import KINDS
from handrail.officialdata.service import ImportSummary, ReleaseStatus, data_status, run_import
from handrail.web.clinic.models import User
from handrail.web.clinic.permissions import can_administer, require
from handrail.web.visits.engine import ruleset_signal_announce

logger = logging.getLogger(__name__)

NOT_ADMIN = "Only a clinic admin can see and import the official data releases."

# What each kind is, in the words of the page (the CLI's `data import KIND` names).
KIND_LABELS: dict[str, str] = {
    "pfs": "pfs: CMS Physician Fee Schedule relative values (PPRRVU)",
    "gpci": "gpci: CMS geographic practice cost indices (GPCI)",
    "zip5": "zip5: CMS ZIP code to carrier locality (ZIP5)",
    "ptp": "ptp: NCCI procedure-to-procedure edits, practitioner (one or more part files)",
    "mue": "mue: NCCI medically unlikely edits, practitioner",
    "icd10cm": "icd10cm: CDC ICD-10-CM code descriptions (order file)",
}


def data_release_list(*, user: User) -> list[ReleaseStatus]:
    """What `handrail data status` lists: every built-in and imported release."""
    require(can_administer(user), NOT_ADMIN)
    return data_status()


def _safe_name(name: str, index: int) -> str:
    base = Path(name.replace("\\", "/")).name.strip()
    if base in {"", ".", ".."}:
        return f"upload-{index}.txt"
    return base


def official_data_import(
    *,
    user: User,
    kind: str,
    uploads: Sequence[UploadedFile[bytes]],
    release: str = "",
    effective: date | None = None,
) -> ImportSummary:
    """Import the uploaded file (PTP: the part files of one quarter) as one release.

    Raises ValidationError on the field at fault; an importer's error keeps its
    `<file>:<line>: what; how to fix` text with the uploaded file's own name.
    """
    require(can_administer(user), NOT_ADMIN)
    if kind not in KINDS:
        raise ValidationError({"kind": f"Unknown kind {kind!r}: choose one of the list."})
    if not uploads:
        raise ValidationError({"file": "Choose the file to import."})
    if len(uploads) > 1 and kind != "ptp":
        raise ValidationError(
            {"file": f"Choose one {kind} file; only the ptp kind takes several part files."}
        )
    names = [_safe_name(upload.name or "", i) for i, upload in enumerate(uploads)]
    if len(set(names)) != len(names):
        raise ValidationError({"file": "Two of the files have the same name; choose each once."})
    with tempfile.TemporaryDirectory(prefix="handrail-import-") as folder:
        root = Path(folder)
        target = root / "files" if kind == "ptp" and len(uploads) > 1 else root
        target.mkdir(exist_ok=True)
        for name, upload in zip(names, uploads, strict=True):
            with (target / name).open("wb") as handle:
                for chunk in upload.chunks():
                    handle.write(chunk)
        source = target if target != root else root / names[0]
        try:
            summary = run_import(kind, source, release=release or None, effective=effective)
        except OfficialDataError as error:
            # The importer names the file by its path; the user knows it by its own name.
            message = str(error).replace(f"{target}/", "").replace(str(target), "files")
            raise ValidationError({"file": message}) from None
    # Every node compares its store's releases at its next evaluation (REDIS_URL).
    ruleset_signal_announce()
    logger.info(
        "official data imported by %s (clinic %s): %s release %r, %d rows, sha256 %s",
        user.username,
        user.clinic_id,
        summary.kind,
        summary.label,
        summary.rows,
        summary.sha256[:12],
    )
    return summary
