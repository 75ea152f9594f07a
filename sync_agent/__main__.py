from __future__ import annotations

from sync_agent.cli import main

raise SystemExit(main())
