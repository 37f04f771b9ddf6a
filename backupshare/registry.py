"""Which module speaks which `service` setting (vbs, cbr): the one place that names both, above
them and their base (service.py), so that nothing imports in a circle."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .config import SERVICES

if TYPE_CHECKING:
    from .config import Settings
    from .service import SharingService


def service_class(name: str) -> type[SharingService]:
    """The class that speaks the `service` setting's `name`: what a command may ask of a
    service (its class attributes) is read here, before anything is sent."""
    if name == "cbr":
        from .cbr import Cbr

        return Cbr
    from .vbs import Vbs

    return Vbs


def connect(settings: Settings, **options: Any) -> SharingService:
    """The profile's service over a new HTTP client (`options` as for client.Client)."""
    return service_class(settings.service).connect(settings, **options)


def sort_keys() -> tuple[str, ...]:
    """Every --sort-key some service knows, in order (for help and completion, which come
    before a profile says which service it is)."""
    keys = (key for name in SERVICES for key in service_class(name).sort_keys)
    return tuple(dict.fromkeys(keys))
