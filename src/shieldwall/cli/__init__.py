"""The ``shieldwall`` command line: thin commands over the services and the client."""
