"""The benchmark's baseline: one Django view doing one INSERT, nothing else.

Only ever loaded with DJANGO_SETTINGS_MODULE=bench.baseline_app.settings (bench/signal_intake.py
sets it); the desk's settings never list it.
"""
