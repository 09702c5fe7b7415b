"""The production static-files storage: WhiteNoise's compressed manifest storage, with each URL
worked out once per process.

Every page asks for a dozen static URLs (``{% static %}``); each answer means a manifest lookup,
a URL join and quoting, about 0.1 ms, the same every time, since the manifest a process loaded does
not change while it runs (``collectstatic`` is followed by a restart). On the public report form
that was about 5 % of the server's time per report (bench/intake.py).
"""

from __future__ import annotations

from typing import Any

from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._urls: dict[str, str] = {}

    def url(self, name: str | None, force: bool = False) -> str:
        if force or not name or not self.hashed_files:
            # Without a loaded manifest (collectstatic at work, or manifest_strict off with no
            # manifest) the answer may change: not remembered.
            return super().url(name, force)
        url = self._urls.get(name)
        if url is None:
            # A name missing from the manifest raises here, every time (manifest_strict).
            url = self._urls[name] = super().url(name, force)
        return url
