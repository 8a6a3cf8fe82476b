"""Automation rules at run time: record events → matching rules → one job per rule run → actions.

Rules are metadata (``automations`` on an object document, checked by
``trellis.metadata.automations``). The record service tells ``Automation``
(``engine.py``) of every committed change with a ``RecordEvent``
(``events.py``); each active rule whose trigger and condition match gets a row
in the tenant's run log (``runlog.py``) and one job of the job layer, whose
handler (``actions.py``) runs the actions through the record service as the
rule's acting user. Time-based and scheduled rules are found by a periodic
scan (``scan.py``); webhooks are signed and delivered by ``webhooks.py``.

This package's ``__init__`` imports nothing, because the record service
imports ``events`` from it and the rest of the package imports the record
service.
"""
