"""Push, both ways: the mock push gateway (`/_matrix/push/v1/notify`) and the mock homeserver's pushers."""
