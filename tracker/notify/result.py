"""The outcome of one attempt to send an alert, whatever the channel."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SendResult:
    ok: bool
    status_code: int | None = None  # HTTP status or SMTP reply code
    response: str | None = None  # SMTP reply text, or the start of the HTTP response body
    error: str | None = None

    def describe(self) -> str:
        """One line: what the other side said, or why we could not ask it."""
        parts = ["ok" if self.ok else "FAILED"]
        if self.status_code is not None:
            parts.append(str(self.status_code))
        if self.response:
            parts.append(" ".join(self.response.split())[:300])
        if self.error:
            parts.append(f"({self.error})")
        return " ".join(parts)
