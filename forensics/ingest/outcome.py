"""What a load did, per file and overall; the counts must reconcile."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class FileOutcome:
    """One evidence file's fate; becomes a row of `sources`."""

    path: str
    sha256: str
    bytes: int
    format: str
    status: str  # loaded | partial | rejected | skipped-* | superseded
    records_read: int = 0
    records_loaded: int = 0
    duplicates: int = 0
    rejected: int = 0
    detail: str = ""
    source: str = ""  # cloudtrail | vpcflow | billing | findings | ""

    @property
    def skipped(self) -> bool:
        return self.status.startswith("skipped")

    def settle(self, read: int, loaded: int, rejected: int, note: str = "", unit: str = "records") -> None:
        """Set the counts (duplicates are what is left: read = loaded + duplicates + rejected)
        and the status they imply: rejected records make a file partial, or rejected if
        nothing of it stays; a salvage note makes it partial."""
        self.records_read, self.records_loaded, self.rejected = read, loaded, rejected
        self.duplicates = read - rejected - loaded
        if rejected:
            self.status = "partial" if loaded or self.duplicates else "rejected"
            self.detail = note or f"{rejected} {unit} quarantined in rejects"
        elif note:
            self.status, self.detail = "partial", note
        elif read == 0:
            self.detail = f"no {unit} in file"


@dataclass
class LoadReport:
    """The whole load: read = loaded + duplicates + rejected; skipped files counted apart."""

    files: list[FileOutcome] = field(default_factory=list)

    @property
    def read(self) -> int:
        return sum(f.records_read for f in self.files)

    @property
    def loaded(self) -> int:
        return sum(f.records_loaded for f in self.files)

    @property
    def duplicates(self) -> int:
        return sum(f.duplicates for f in self.files)

    @property
    def rejected(self) -> int:
        return sum(f.rejected for f in self.files)

    @property
    def skipped_files(self) -> int:
        return sum(1 for f in self.files if f.skipped)

    @property
    def rejected_files(self) -> int:
        return sum(1 for f in self.files if f.status == "rejected")

    @property
    def superseded(self) -> int:
        return sum(1 for f in self.files if f.status == "superseded")

    def by_source(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for f in self.files:
            key = f.source or "unknown"
            agg = out.setdefault(
                key,
                {"files": 0, "read": 0, "loaded": 0, "duplicates": 0, "rejected": 0, "skipped": 0},
            )
            agg["files"] += 1
            agg["read"] += f.records_read
            agg["loaded"] += f.records_loaded
            agg["duplicates"] += f.duplicates
            agg["rejected"] += f.rejected
            agg["skipped"] += int(f.skipped)
        return out

    def to_dict(self) -> dict:
        """The `load --json` document of DESIGN.md."""
        return {
            "files": len(self.files),
            "skipped_files": self.skipped_files,
            "rejected_files": self.rejected_files,
            "read": self.read,
            "loaded": self.loaded,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "superseded": self.superseded,
            "by_source": self.by_source(),
            # what was set aside and why (digests, manifests, side files); not files seen before
            "skipped": [
                {"path": f.path, "status": f.status, "detail": f.detail}
                for f in self.files
                if f.skipped and f.status != "skipped-already-loaded"
            ],
            "file_outcomes": [asdict(f) for f in self.files],
        }

    def reconciles(self) -> bool:
        return all(f.records_read == f.records_loaded + f.duplicates + f.rejected for f in self.files)
