import sys

from telemetry_csv.cli.main import main

sys.exit(main())
