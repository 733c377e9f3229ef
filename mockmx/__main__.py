from __future__ import annotations

from mockmx.cli import main

raise SystemExit(main())
