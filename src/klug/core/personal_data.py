"""A person's data across the domains (GDPR Art. 15, 17, 20): every domain that keeps
personal data registers how to export it and how to erase it; the account page asks the
registry, so that no domain is forgotten and none needs to know the others.

Erasing means what the law allows: data kept for a legal duty (submitted applications are
administrative files) loses its link to the account instead of being deleted.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session


@dataclass(frozen=True)
class Export:
    """One domain's part: JSON-able records and files (name in the archive, file on disk)."""

    data: Any
    files: list[tuple[str, Path]] = field(default_factory=list)


# (session, account id, the data directory)
Exporter = Callable[[Session, int, Path], Export]
Eraser = Callable[[Session, int, Path], None]


@dataclass
class PersonalDataRegistry:
    exporters: dict[str, Exporter] = field(default_factory=dict)
    erasers: dict[str, Eraser] = field(default_factory=dict)

    def register(self, name: str, *, export: Exporter, erase: Eraser | None = None) -> None:
        if name in self.exporters:
            raise ValueError(f"personal data of {name!r} registered twice")
        self.exporters[name] = export
        if erase is not None:
            self.erasers[name] = erase

    def export_zip(self, session: Session, account_id: int, var_dir: Path) -> bytes:
        """``daten.json`` with every domain's records, and their files under ``dateien/``."""
        buffer = io.BytesIO()
        everything: dict[str, Any] = {}
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, exporter in sorted(self.exporters.items()):
                part = exporter(session, account_id, var_dir)
                everything[name] = part.data
                for arcname, path in part.files:
                    if path.is_file():  # a file removed by retention is not an error
                        archive.write(path, f"dateien/{name}/{arcname}")
            text = json.dumps(everything, ensure_ascii=False, indent=2, default=str)
            archive.writestr("daten.json", text)
        return buffer.getvalue()

    def erase(self, session: Session, account_id: int, var_dir: Path) -> None:
        """Every domain's erasure, in one transaction (the caller commits)."""
        for _name, eraser in sorted(self.erasers.items()):
            eraser(session, account_id, var_dir)
