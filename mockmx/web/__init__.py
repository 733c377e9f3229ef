"""HTTP plumbing the mock and replay share: Matrix error answers, CORS, raw-path routing, reading bodies."""
