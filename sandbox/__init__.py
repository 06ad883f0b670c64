"""Local AWS sandbox: moto in server mode plus the pieces of AWS that moto lacks.

See sandbox/README.md. Entry points: ``python sandbox/server.py`` and
``from sandbox.server import start_sandbox``.
"""
