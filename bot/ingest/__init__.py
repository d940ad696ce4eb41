"""Where customer DMs enter dmcare: X's webhook and the X poller, both writing to the inbox."""
