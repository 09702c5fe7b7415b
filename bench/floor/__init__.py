"""The floor of bench/intake.py: a bare Django view (a small form; a POST inserts one row) served by
the same server, settings and middleware as the app, so the report form is measured against it."""
