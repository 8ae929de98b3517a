"""The case as a Parquet lake: export, pull an indicator's slice back into a case, and the
reading side shared with the Spark engine."""

from .export import ExportReport, LakeError, attach_lake, export_case, lake_select, read_manifest

__all__ = ["ExportReport", "LakeError", "attach_lake", "export_case", "lake_select", "read_manifest"]
