"""The member-side client: talks to a hub over HTTP; usable as a Python library."""
