"""python -m photo_ai_web: the same as `photo-ai serve`."""

import sys

from photo_ai_web.serve import main

if __name__ == "__main__":
    sys.exit(main())
