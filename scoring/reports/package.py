"""Office files (workbooks, Word documents) are zip packages: written with fixed times, so that the same
inputs give the same bytes whatever the clock says."""
from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

FIXED_TIME = dt.datetime(2000, 1, 1)  # the packages' timestamps: a run's bytes must not depend on the clock


class FixedTimeZip(zipfile.ZipFile):
    """A zip whose entries carry the given time instead of the time of writing."""

    def __init__(self, *args, stamp: dt.datetime, **kwargs):
        super().__init__(*args, **kwargs)
        self.stamp = stamp

    def writestr(self, name, data, *args, **kwargs):
        if isinstance(name, str):
            info = zipfile.ZipInfo(name, date_time=self.stamp.timetuple()[:6])
            info.compress_type = self.compression
            info.external_attr = 0o600 << 16
            name = info
        super().writestr(name, data, *args, **kwargs)

    def write(self, filename, arcname=None, *args, **kwargs):
        # openpyxl writes each worksheet to a temporary file first
        self.writestr(arcname or Path(filename).name, Path(filename).read_bytes())


def repack(package: bytes, stamp: dt.datetime = FIXED_TIME) -> bytes:
    """The same package, its entries in the same order with fixed times (python-docx stamps the clock)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(package)) as source, FixedTimeZip(buffer, "w", zipfile.ZIP_DEFLATED, stamp=stamp) as out:
        for name in source.namelist():
            out.writestr(name, source.read(name))
    return buffer.getvalue()
