"""Records: the model and the pipelines behind ``client.records``, one responsibility per module.

- :mod:`~famchain.records.actor`: one party on one deployment (key, sender, store, outbox home).
- :mod:`~famchain.records.entitlements`: who is entitled to a patient's new records, as the chain says now.
- :mod:`~famchain.records.sealing`: a record sealed section by section and put in the outbox.
- :mod:`~famchain.records.anchoring`: store, pin and anchor exactly once (batched, pipelined, single).
- :mod:`~famchain.records.updates`: amendments and the patient's approval.
- :mod:`~famchain.records.reading`: fetch, verify, decrypt a record or a whole card, consent re-checked.
- :mod:`~famchain.records.sharing`: consents and key releases.
- :mod:`~famchain.records.profile`: the resident's basic information.
- :mod:`~famchain.records.outbox`: the author's durable queue.
- :mod:`~famchain.records.model`, :mod:`~famchain.records.sections`, :mod:`~famchain.records.fhir`: the record
  format, the section/action/purpose bits, FHIR mapping.
"""
