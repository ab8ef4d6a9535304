"""pydantic's model metaclass, for :mod:`meshstack.model.base` to wrap construction with.

meshstack's models turn pydantic's ``ValidationError`` into a path-named ``ConfigError`` at the
outermost construction, ``Model(...)``, so that one call still collects every problem of the
whole object tree. That needs a metaclass ``__call__``: overriding ``__init__`` instead makes
pydantic call it for every nested model it validates (``custom_init``), which splits the errors.
pydantic has no public name for its metaclass; at run time it is taken from ``BaseModel`` itself,
and only the type checker reads the private module. No Pulumi here: the model layer imports it.
:data:`meshstack._sdk.CONTRACTS` records the checked releases.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel

if TYPE_CHECKING:
    from pydantic._internal._model_construction import ModelMetaclass
else:
    ModelMetaclass = type(BaseModel)

__all__ = ["ModelMetaclass"]
