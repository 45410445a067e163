from __future__ import annotations

from auditor.cli import main

main()
