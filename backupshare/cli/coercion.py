"""Plain coercion for plain parameters, so parsing never imports pydantic.

Typer 0.29 coerces every non-bool parameter through a pydantic TypeAdapter, which costs about
80 ms of imports on each command that takes an option (see benchmarks/README.md). Our parameters
are all bool, str, int, float or lists of str; for those a plain conversion is exact, so they
get a plain converter. Anything else keeps Typer's own path. Typer is pinned below 0.30 for this.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from typing import Any

from typer._click.exceptions import BadParameter
from typer._coercion import RuntimeParam

SCALARS: dict[Any, str] = {str: "text", int: "integer", float: "number", bool: "boolean"}


def _plain_type(annotation: Any) -> tuple[Any, bool] | None:
    """(scalar type, is list) for str/int/float, Optional thereof, and list[str]."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _plain_type(args[0]) if len(args) == 1 else None
    if origin is list:
        [item] = typing.get_args(annotation)
        return (item, True) if item in SCALARS else None
    return (annotation, False) if annotation in SCALARS else None


@dataclass(frozen=True)
class PlainRuntimeParam(RuntimeParam):
    scalar: Any = str
    many: bool = False

    def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
        if self.many:
            return [self._one(item, param, ctx) for item in value]
        return self._one(value, param, ctx)

    def _one(self, value: Any, param: Any, ctx: Any) -> Any:
        if self.scalar is bool:
            if isinstance(value, bool):
                return value
            raise BadParameter(f"{value!r} is not a valid boolean", ctx=ctx, param=param)
        if isinstance(value, self.scalar) and not isinstance(value, bool):
            return value
        try:
            return self.scalar(value)
        except (TypeError, ValueError):
            raise BadParameter(
                f"{value!r} is not a valid {SCALARS[self.scalar]}", ctx=ctx, param=param
            ) from None


def install() -> None:
    """Routes plain parameters (Typer's own --help flag included) to the plain converter."""
    from typer.core import _TyperParameter

    original = _TyperParameter.get_runtime_param
    if getattr(original, "plain", False):
        return

    def get_runtime_param(self: Any) -> RuntimeParam:
        if self._runtime_param is None:
            descriptor = self.type_descriptor
            plain = _plain_type(descriptor.annotation)
            if plain is not None:
                self._runtime_param = PlainRuntimeParam(
                    descriptor.parameter_info, descriptor.annotation, plain[0], plain[1]
                )
        return original(self)

    get_runtime_param.plain = True  # type: ignore[attr-defined]
    _TyperParameter.get_runtime_param = get_runtime_param  # type: ignore[method-assign]
