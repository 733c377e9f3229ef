"""The homeserver's state: accounts, rooms and their event stream, to-device inboxes, and who waits for what."""
