"""The one error type of the OData layer: a client mistake, answered with 400."""

from __future__ import annotations


class ODataError(ValueError):
    """A malformed or unsupported query; ``where`` points at the offending part."""

    def __init__(
        self,
        message: str,
        *,
        option: str | None = None,
        text: str | None = None,
        position: int | None = None,
    ) -> None:
        self.message = message
        self.option = option
        self.text = text
        self.position = position
        super().__init__(self.describe())

    def describe(self) -> str:
        parts = []
        if self.option:
            parts.append(self.option)
        if self.text is not None and self.position is not None:
            shown = self.text if len(self.text) <= 120 else self.text[: self.position + 40]
            parts.append(f"at position {self.position + 1} of {shown!r}")
        prefix = (" ".join(parts) + ": ") if parts else ""
        return prefix + self.message

    def within(self, option: str, text: str) -> ODataError:
        """The same error, told in terms of the query option it came from."""
        if self.option is None:
            self.option = option
            if self.text is None:
                self.text = text
        return self
