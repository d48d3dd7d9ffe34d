"""The file cache of the embedded defaults: Django's, tuned for rendered diagrams.

Django's file cache compresses every value with zlib's default level and lists its whole directory on
every write to decide whether to cull. For drawings of 100 KB and more of SVG both cost more than the
rest of a topology request. This one takes its zlib level from OPTIONS["COMPRESS_LEVEL"] (default 1,
the fastest that still compresses; 0 stores values as they are) and counts its files at most once
every CULL_EVERY seconds per cache object.
"""
import pickle
import time
import zlib

from django.core.cache.backends.filebased import FileBasedCache

CULL_EVERY = 10.0


class FileCache(FileBasedCache):
    _culled_at = float("-inf")

    def __init__(self, dir, params):
        super().__init__(dir, params)
        self._level = int(params.get("OPTIONS", {}).get("COMPRESS_LEVEL", 1))

    def _write_content(self, file, timeout, value):
        file.write(pickle.dumps(self.get_backend_timeout(timeout), self.pickle_protocol))
        file.write(zlib.compress(pickle.dumps(value, self.pickle_protocol), self._level))

    def _cull(self):
        now = time.monotonic()
        if now - self._culled_at < CULL_EVERY:
            return
        self._culled_at = now
        super()._cull()
