"""Records: the model and the pipelines behind ``client.records``, one responsibility per module.

- :mod:`~famchain.records.actor`: one party on one deployment (key, sender, store, outbox home).
- :mod:`~famchain.records.entitlements`: who is entitled to a patient's new records, as the chain says at a block.
- :mod:`~famchain.records.sealing`: a record sealed section by section under a fresh salt, its id derived as the
  contract will, and put in the outbox.
- :mod:`~famchain.records.anchoring`: store, pin and anchor exactly once (batched, pipelined, single).
- :mod:`~famchain.records.updates`: amendments and the patient's approval.
- :mod:`~famchain.records.reading`: resolve on the verified card, fetch, check against the anchor, decrypt a
  record or a whole card, consent re-checked.
- :mod:`~famchain.records.sharing`: consents naming their key bundle, key releases (sync, share, late).
- :mod:`~famchain.records.terms`: consent terms' openings and sealed request terms.
- :mod:`~famchain.records.profile`: the resident's basic information.
- :mod:`~famchain.records.outbox`: the author's durable queue.
- :mod:`~famchain.records.model`, :mod:`~famchain.records.sections`: the record format (and kind), the
  section/action bits and purposes. FHIR mapping is :mod:`famchain.fhir`.
"""
