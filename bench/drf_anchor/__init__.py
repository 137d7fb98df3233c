"""The benchmark's anchor: a plain DRF signal intake, as a team would first write it.

A DRF APIView behind a hashed strategy key (djangorestframework-api-key's HasAPIKey), a
ModelSerializer that validates the body and writes the same signal row, and its answer. No
idempotency, audit row, live event, metrics or request ids. Only ever loaded with
DJANGO_SETTINGS_MODULE=bench.drf_anchor.settings (bench/signal_intake.py sets it).
"""
