"""The mock's own encrypted users: scenario devices that hold real Olm accounts (vodozemac) and talk like a client."""
