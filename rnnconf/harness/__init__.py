"""The harness: the pytest plugin (:mod:`.plugin` lists its modules).

Options, case axes and ids, fixtures and the runner that builds each case, outcomes (n/a, no
GPU), expectations (known nonconformances), asserts and checks, and the report (records, hooks,
JSON and HTML writers). Imports the specification and the implementations, never the tools.
"""
