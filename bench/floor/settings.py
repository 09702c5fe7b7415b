"""The app's own settings (``btam.settings``, driven by the same environment), with a URLconf that
adds the floor view of bench/intake.py after the app's URLs. Bench only: never deployed."""

from btam.settings import *  # noqa: F403

ROOT_URLCONF = "bench.floor.urls"
