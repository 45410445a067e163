"""Plugins: a tiny name -> class table shared by sources, detectors, checks and formats.

Adding an implementation is one file with a decorated class plus one line in
its package's ``__init__``: an import, or ``declare(name, module)`` for an
implementation whose libraries are slow to import (BOM formats load
spdx-tools, the SPDX 3 bindings, cyclonedx-python-lib: a third of a second that
a pre-commit check should not pay). A declared module is imported the first
time its name is asked for.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class Plugins(Generic[T]):
    def __init__(self, what: str) -> None:
        self._what = what
        self._items: dict[str, type[T]] = {}
        #: name -> module that registers it when imported; kept in declaration order.
        self._lazy: dict[str, str] = {}

    def register(self, name: str) -> Callable[[type[T]], type[T]]:
        def deco(cls: type[T]) -> type[T]:
            if name in self._items:
                raise ValueError(f"{self._what} {name!r} registered twice")
            self._items[name] = cls
            return cls

        return deco

    def declare(self, name: str, module: str) -> None:
        """``name`` is registered by ``module``, imported when ``name`` is first needed."""
        if name in self._items or name in self._lazy:
            raise ValueError(f"{self._what} {name!r} registered twice")
        self._lazy[name] = module

    def get(self, name: str) -> type[T]:
        if name not in self._items and name in self._lazy:
            importlib.import_module(self._lazy[name])
            if name not in self._items:
                raise KeyError(f"{self._lazy[name]} did not register {self._what} {name!r}")
        try:
            return self._items[name]
        except KeyError:
            known = ", ".join(self.names())
            raise KeyError(f"unknown {self._what} {name!r} (known: {known})") from None

    def names(self) -> list[str]:
        return list(self._items) + [n for n in self._lazy if n not in self._items]

    def __iter__(self) -> Iterator[tuple[str, type[T]]]:
        return iter([(name, self.get(name)) for name in self.names()])

    def __contains__(self, name: object) -> bool:
        return name in self._items or name in self._lazy
