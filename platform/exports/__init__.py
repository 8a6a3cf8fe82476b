"""Exports of list views and reports to CSV or XLSX, run as jobs and streamed.

``start_export`` checks the request at once (an unknown field or a bad ``where``
is refused before anything is queued) and queues an ``exports.run`` job; the
handler reads the rows in server-side batches through the record service's read
source (so the user's record predicate and readable fields apply) and writes
them incrementally, so a million-row export never holds the rows in memory.
Finished files live in the exports folder, one folder per tenant, and are
deleted once ``export_ttl_s`` has passed.
"""

from .files import export_file, sweep_expired
from .spec import FORMATS, KIND, ExportSpec, start_export

__all__ = ["FORMATS", "KIND", "ExportSpec", "export_file", "start_export", "sweep_expired"]
