"""State changes of the secret store: writes, provisioning, moves, key rotation."""
