"""Piccolo's configuration: the engine reads DATABASE_URL, which the CLI sets for every process it starts."""

import os

from piccolo.conf.apps import AppRegistry
from piccolo.engine.postgres import PostgresEngine

# No extensions on connect: the migrations create the ones we use (vector).
DB = PostgresEngine(config={"dsn": os.environ.get("DATABASE_URL", "")}, extensions=())
APP_REGISTRY = AppRegistry(apps=["schema.piccolo_app"])
