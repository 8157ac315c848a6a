"""The domain's shapes: Piccolo tables and migrations, and the msgspec structs that cross process boundaries."""

import os

# Piccolo finds its configuration through this variable; ours lives in this package.
os.environ.setdefault("PICCOLO_CONF", "schema.piccolo_conf")
