import sys

from devicelint.cli import main

sys.exit(main())
