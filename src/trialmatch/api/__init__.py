"""The HTTP service: a JSON API for screening and the trial library, and a web page for research coordinators.

Secure by default: loopback only unless told otherwise, a bearer token on every endpoint but ``/health``,
signed HttpOnly session cookies with CSRF tokens for the web page, a request body limit, no patient values
in logs, and an append-only audit log of screenings.
"""
