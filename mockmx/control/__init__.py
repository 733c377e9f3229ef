"""The control plane under `/_mockmx/`: what a test in any language (and the inspector page) uses to reset the
mock, change its world, inject events and faults, and read what happened.

`changes.py` wakes waiters and the page's event stream, `journal.py` keeps the requests, `to_device_log.py` the
to-device messages, `middleware.py` journals each request and applies the fault rules, `gate.py` decides who may
use the control API; `lane.py` is a mock's app, whose direct lane journals and answers the requests none of those
layers would change in one step. What mocks and replays both serve is here too: `inspector.py` (the page, its event
stream, the OpenAPI document), `request_journal.py`, `params.py` (the journals' query parameters) and `routes.py`;
the mock's own control endpoints are in `mockmx/api/control.py` and `journals.py`.
"""
