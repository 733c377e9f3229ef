"""The HTTP surface: one module per group of client-server endpoints, each raising `MatrixError` on bad input."""
