"""CSV import: read a file, suggest how its columns map to fields, preview, then import as a job.

``csvfile`` reads the upload, ``mapping`` turns columns into field values (suggesting the
mapping, converting cells, matching lookup columns), ``infer`` proposes a new object from
a file, ``store`` keeps each import and its rejected rows in the tenant's store, and ``run``
is the job that writes the rows through ``RecordService.create_many``. ``Imports`` (in
``service``) is what the doors call.
"""
