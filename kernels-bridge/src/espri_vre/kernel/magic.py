"""The `%provenance` line magic: the user's switch for the recording of their kernel."""

from __future__ import annotations

from collections.abc import Callable

from .recorder import Recorder

USAGE = "%provenance [status|pause|resume|off|on|where]"


def provenance_magic(current: Callable[[], Recorder | None]) -> Callable[[str], None]:
    """The magic, asking `current` for the kernel's recorder at each call (an unloaded
    extension has none)."""

    def provenance(line: str) -> None:
        """Recording of this kernel's provenance: %provenance [status|pause|resume|off|on|where]."""
        from IPython.core.error import UsageError

        recorder = current()
        command = line.strip() or "status"
        if recorder is None:
            raise UsageError("provenance capture is not loaded: %load_ext espri_vre")
        if command == "status":
            for key, value in recorder.status().items():
                if value is not None:
                    print(f"{key}: {value}")
        elif command == "where":
            info = recorder.status()
            print(info["log"] or f"no log ({info['state']}: {info['reason']})")
        elif command == "pause":
            recorder.pause()
        elif command == "resume":
            recorder.resume()
        elif command == "off":
            recorder.off()
        elif command == "on":
            recorder.start()
            print(recorder.status()["log"] or recorder.reason)
        else:
            raise UsageError(f"unknown command {command!r}: {USAGE}")

    return provenance
