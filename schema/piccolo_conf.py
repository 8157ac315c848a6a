"""Piccolo's configuration: the engine reads DATABASE_URL, which the CLI sets for every process it starts."""

import os

from piccolo.conf.apps import AppRegistry

from stack.pg_engine import OutageTolerantEngine

# No extensions on connect: the migrations create the ones we use (vector).
# The engine rides out a short outage (a restart) instead of failing every query at once: stack/pg_engine.py.
DB = OutageTolerantEngine(config={"dsn": os.environ.get("DATABASE_URL", "")}, extensions=())
APP_REGISTRY = AppRegistry(apps=["schema.piccolo_app"])
