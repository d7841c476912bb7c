"""Cost estimates from the optional `genai-prices` package, each row priced at its own timestamp.

The `cost` extra adds it (`install_hint` says how, for the running interpreter); it prices offline from the data it ships and knows
when each price applied. It is imported only when a report asks for costs, so `log` never pays
for it. A model it does not know is unpriced, and reports say so; it is never priced at $0.

Asking the library for every row would cost more than the rest of the report together, so each
model's prices are reduced to exact integer rates, checked against the library:

- a model's price changes only at the instants its price constraints name (a start date at UTC
  midnight, a daily time-of-day window), so a price, once chosen by the library for an instant,
  holds until the next such instant (`ModelPricing.start`/`end`);
- within one price, the cost of a run is linear in its uncached prompt tokens, its cache-read and
  cache-write tokens and its completion tokens between the thresholds of tiered prices (the tier
  is chosen by the run's prompt tokens, cached ones included, as the library does). The library is
  asked for the cost at a few points of each tier, the rates are derived and then verified at
  another point, and the rates are kept as whole femto-dollars per token. A price that does not fit (a
  constraint or tier this module does not know, or a rate finer than 1e-15 dollars) is left to
  the library, row by row: slower, never wrong.

Cache parts: a row that knows them (`cache_read_tokens`, `cache_write_tokens`) has those parts of
its prompt tokens priced at the price data's cache-read and cache-write rates (a model without a
cache price has them at its input rate, as the library prices them); a row that does not know
them has every prompt token priced as input.

Model names: `provider/model` is looked up as that provider's model first, then as a whole name,
then by the model part alone; the report shows what each name was priced as.
"""

from __future__ import annotations

import bisect
import math
import warnings
from collections.abc import Iterator
from types import ModuleType, SimpleNamespace, UnionType
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from telemetry_csv.report.data import FEMTO_PER_USD
from telemetry_csv.report.dates import SECONDS_PER_DAY, datetime_second, days_from_civil

if TYPE_CHECKING:
    from datetime import time
    from decimal import Decimal


def install_hint() -> str:
    """The command that adds the price data to the interpreter running this (`extras`)."""
    from telemetry_csv import extras

    return extras.install_command(extras.requirements("cost", (PACKAGE,)))


PACKAGE = "genai-prices"

_PROBE = 1_000_000


def load_pricer() -> Pricer | None:
    """A pricer when `genai-prices` can be imported, else None."""
    library = _price_library()
    return None if library is None else Pricer(library)


# Whether this process may import the price data without pydantic (`_import_price_modules`):
# the command line's own process only. A program that imports the library keeps the usual
# import: its other threads, or its own later use of genai-prices' types, could meet what the
# stand-in recorded.
_lean = False


def import_prices_lean() -> None:
    """Let this process import the price data without pydantic: for the command line only."""
    global _lean
    _lean = True


def _price_library() -> Any:
    """What pricing needs of `genai-prices`: its price data, `calc_price`, `Usage` and its
    version. The package's own `__init__` also imports its price updater (an HTTP client and
    more), which costs a report more than the price data itself, so when the package is not
    imported yet its modules are imported without it; a later `import genai_prices` runs its
    `__init__` as usual and finds them. None when it is not installed."""
    import sys
    import threading

    if "genai_prices" in sys.modules:
        package: Any = sys.modules["genai_prices"]
        if package is None:  # what `import` takes for a module known to be missing
            return None
        return SimpleNamespace(
            calc_price=package.calc_price, Usage=package.Usage, __version__=package.__version__
        )
    from importlib.util import find_spec

    try:
        spec = find_spec("genai_prices")
    except (ImportError, ValueError):
        spec = None
    if spec is None or spec.submodule_search_locations is None:
        return None
    stand_in = ModuleType("genai_prices")
    stand_in.__path__ = list(spec.submodule_search_locations)
    stand_in.__spec__ = spec
    sys.modules["genai_prices"] = stand_in
    try:
        try:
            # The stand-in sits in `sys.modules` while `types` is imported: only when no other
            # thread runs, so no other import can meet it (a new thread could only be started
            # by this one, busy importing).
            lone = threading.active_count() == 1
            snapshots, types = _import_price_modules(
                without_pydantic=_lean and lone and "pydantic" not in sys.modules
            )
        except _PydanticNeeded:
            snapshots, types = _import_price_modules(without_pydantic=False)
    except ImportError:
        return None
    finally:
        if sys.modules.get("genai_prices") is stand_in:
            del sys.modules["genai_prices"]

    def calc_price(
        usage: Any,
        model_ref: str,
        *,
        provider_id: str | None = None,
        genai_request_timestamp: Any = None,
    ) -> Any:
        return snapshots.get_snapshot().calc(
            usage, model_ref, provider_id, None, genai_request_timestamp
        )

    return SimpleNamespace(
        calc_price=calc_price,
        Usage=types.Usage,
        __version__=_version(spec.submodule_search_locations),
        types=types,
    )


def _version(locations: Any) -> str:
    """The installed package's version: from the one `genai_prices-*.dist-info` beside the
    package where there is one (as pip installs it), else from `importlib.metadata`, whose import
    costs a report more than looking."""
    import os

    for location in locations:
        folder: str = os.path.dirname(location)
        try:
            found = [name for name in os.listdir(folder) if name.startswith("genai_prices-")]
        except OSError:
            continue
        named = [name for name in found if name.endswith(".dist-info")]
        if len(named) == 1:
            named_version = named[0][len("genai_prices-") : -len(".dist-info")]
            try:
                with open(os.path.join(folder, named[0], "METADATA"), encoding="utf-8") as file:
                    for line in file:
                        if line == "\n":
                            break
                        if line.startswith("Version: "):
                            if line[len("Version: ") :].strip() == named_version:
                                return named_version
                            break
            except OSError:
                pass
    from importlib.metadata import version as metadata_version

    return metadata_version(PACKAGE)


_LAZY_MODULES = (
    "genai_prices.data",
    "genai_prices.units",
    "genai_prices.data_units",
    "genai_prices.decompose",
    "genai_prices.validation",
)

_PRICE_MODULES = ("genai_prices.types", "genai_prices.data_snapshot", *_LAZY_MODULES)


def _import_price_modules(*, without_pydantic: bool) -> tuple[Any, Any]:
    """`genai_prices.data_snapshot` and `genai_prices.types`, with the modules the price
    calculation imports on first use (imported later, without the package's stand-in, they
    would import its `__init__` after all).

    `without_pydantic`: pydantic is imported by `types` only to describe how the package reads
    price data from JSON (its `TypeAdapter`s and the `Annotated` marks they read), which the
    price calculation never does; importing pydantic and building those adapters costs more
    than the price data itself. So `types` is imported with `_LatePydantic` standing in for
    pydantic: the marks are recorded, and the first use of an adapter imports pydantic and
    puts the real marks in place before building the real adapter (`_LatePydantic.realise`).
    A name the stand-in does not know raises `_PydanticNeeded`, and the caller imports the
    modules again the usual way."""
    import sys
    from importlib import import_module

    if not without_pydantic:
        return import_module("genai_prices.data_snapshot"), import_module("genai_prices.types")
    late = _LatePydantic()
    sys.modules["pydantic"] = late
    try:
        types = import_module("genai_prices.types")
        late.module = types
        snapshots = import_module("genai_prices.data_snapshot")
        for lazy in _LAZY_MODULES:
            import_module(lazy)
    except BaseException:
        for name in _PRICE_MODULES:
            sys.modules.pop(name, None)
        raise
    finally:
        if sys.modules.get("pydantic") is late:
            del sys.modules["pydantic"]
    return snapshots, types


class _PydanticNeeded(ImportError):
    """`genai_prices.types` asked `_LatePydantic` for a name it does not stand in for."""


class _Mark:
    """A pydantic object `genai_prices.types` made while `_LatePydantic` stood in for pydantic:
    its name and arguments, to make the real one from."""

    __slots__ = ("args", "kwargs", "name")

    def __init__(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]):
        self.name, self.args, self.kwargs = name, args, kwargs

    def real(self) -> Any:
        import pydantic

        return getattr(pydantic, self.name)(
            *map(_real, self.args), **{key: _real(value) for key, value in self.kwargs.items()}
        )


class _LateAdapter:
    """A `pydantic.TypeAdapter` made on first use (see `_import_price_modules`)."""

    def __init__(self, late: _LatePydantic, args: tuple[Any, ...], kwargs: dict[str, Any]):
        self._late, self._args, self._kwargs = late, args, kwargs
        self._adapter: Any = None

    def __getattr__(self, name: str) -> Any:
        if self._adapter is None:
            self._late.realise()
            self._adapter = _Mark("TypeAdapter", self._args, self._kwargs).real()
        return getattr(self._adapter, name)


class _LatePydantic(ModuleType):
    """What `genai_prices.types` is given for `pydantic` while it is imported for prices."""

    _MARKS = frozenset({"Tag", "Discriminator", "Field", "ConfigDict"})

    def __init__(self) -> None:
        super().__init__("pydantic")
        self.module: ModuleType | None = None

    def __getattr__(self, name: str) -> Any:
        if name == "TypeAdapter":
            return lambda *args, **kwargs: _LateAdapter(self, args, kwargs)
        if name in self._MARKS:
            return lambda *args, **kwargs: _Mark(name, args, kwargs)
        raise _PydanticNeeded(f"pydantic.{name}")

    def realise(self) -> None:
        """Real pydantic in `types` from now on: its name (string annotations name it), and
        the real marks in every annotated type it holds."""
        import pydantic

        module = self.module
        if module is None or getattr(module, "pydantic", None) is pydantic:
            return
        for name, value in list(vars(module).items()):
            if value is not self and _has_marks(value):
                setattr(module, name, _real(value))
        setattr(module, "pydantic", pydantic)  # noqa: B010 (a module attribute mypy does not know)


def _has_marks(value: Any) -> bool:
    import typing

    if isinstance(value, _Mark):
        return True
    if typing.get_origin(value) is None:
        return False
    metadata = getattr(value, "__metadata__", ())
    return any(map(_has_marks, (*typing.get_args(value), *metadata)))


def _real(value: Any) -> Any:
    """`value` with each `_Mark` in it made real: a mark, or a type made of `Annotated`,
    unions and generic aliases holding marks."""
    import functools
    import operator
    import typing

    if isinstance(value, _Mark):
        return value.real()
    if not _has_marks(value):
        return value
    if isinstance(value, dict):
        return {key: _real(item) for key, item in value.items()}
    origin = typing.get_origin(value)
    if origin is typing.Annotated:  # its args are the type and the marks
        return typing.Annotated[(_real(value.__origin__), *map(_real, value.__metadata__))]
    args = tuple(map(_real, typing.get_args(value)))
    if origin is typing.Union or isinstance(value, UnionType):
        return functools.reduce(operator.or_, args)
    return value.copy_with(args)


class Pricer:
    def __init__(self, library: Any):
        self._library = library
        self._types = library.types if hasattr(library, "types") else _types_of(library)
        self.price_data = f"{PACKAGE} {library.__version__}"
        self._models: dict[str, ModelPricing | None] = {}
        self._tariffs: dict[int, tuple[object, Tariff]] = {}

    def model(self, name: str) -> ModelPricing | None:
        """How to price rows of model `name`, or None when no price is known for it."""
        if name in self._models:
            return self._models[name]
        from datetime import UTC, datetime

        lookup_instant = datetime(2025, 1, 1, tzinfo=UTC)  # lookups ignore it; keeps `now` out
        found = None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for provider_id, reference in _lookups(name):
                try:
                    calculation = self._library.calc_price(
                        self._library.Usage(input_tokens=0, output_tokens=0),
                        reference,
                        provider_id=provider_id,
                        genai_request_timestamp=lookup_instant,
                    )
                except (LookupError, ValueError):
                    continue
                found = ModelPricing(self, calculation.model, calculation.provider)
                break
        self._models[name] = found
        return found

    def tariff(self, price: object) -> Tariff:
        """The integer rates of one library price, derived once and verified."""
        known = self._tariffs.get(id(price))
        if known is not None and known[0] is price:
            return known[1]
        tariff = _derive_tariff(price, self._library.Usage, self._types.TieredPrices)
        self._tariffs[id(price)] = (price, tariff)  # holding `price` keeps its id unique
        return tariff

    def priced_as(self, name: str) -> str | None:
        """The library's `provider/model` that `name` is looked up as, or None."""
        pricing = self.model(name)
        return pricing.label if pricing is not None else None


def _types_of(library: Any) -> Any:
    from genai_prices import types

    return types


def _lookups(name: str) -> Iterator[tuple[str | None, str]]:
    if "/" in name:
        provider, _, reference = name.partition("/")
        yield provider, reference
        yield None, name
        yield None, reference
    else:
        yield None, name


class ModelPricing:
    """One model's prices over time; `tariff` holds for instants in [start, end)."""

    def __init__(self, pricer: Pricer, info: Any, provider: Any):
        self._pricer = pricer
        self._info = info
        self.label = f"{provider.id}/{info.id}"
        self.start: float = 0
        self.end: float = 0
        self.tariff: Tariff | None = None
        self.base_rates: tuple[int, int, int, int, int, int] = _NO_RATES
        self._changes: _Changes | Literal[False] | None = False  # False: not worked out yet
        self._segments: dict[tuple[int, int], Tariff | None] = {}  # see `move_to`

    def move_to(self, second: int) -> None:
        """Choose the price for the instant `second` (Unix time) and how long it holds. If the
        library cannot compute that price, runs are unpriced while it holds (`tariff` None).

        The library picks a price by which of its constraints hold, and each holds on whole
        segments between the instants of `_price_changes` (after a start date or not, inside a
        daily window or not): so the price of a segment (which start dates have passed, which
        daily windows the time of day is in), once asked, is the price of every instant with
        the same segments, on any day."""
        changes = self._changes
        if changes is False:
            changes = self._changes = _price_changes(self._info.prices, self._pricer._types)
        clamped = datetime_second(second)
        segment = (
            None
            if changes is None
            else (
                bisect.bisect_right(changes.once, clamped),
                bisect.bisect_right(changes.daily, clamped % SECONDS_PER_DAY),
            )
        )
        if segment is not None and segment in self._segments:
            tariff = self._segments[segment]
        else:
            tariff = self._ask(clamped)
            if segment is not None:
                self._segments[segment] = tariff
        self.tariff = tariff
        self.base_rates = tariff.base_rates if tariff is not None else _NO_RATES
        if changes is None:
            self.start, self.end = second, second + 1
        else:
            self.start, self.end = _price_window(changes, second)

    def _ask(self, second: int) -> Tariff | None:
        """The library's price at `second` (within `datetime`'s range), as a tariff."""
        from datetime import UTC, datetime

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                moment = datetime.fromtimestamp(second, UTC)
                price = self._info.get_prices(moment)
            return self._pricer.tariff(price)
        except (ArithmeticError, LookupError, TypeError, ValueError):
            return None


class _Changes(NamedTuple):
    """The instants at which a model's price may change: `once`, sorted (start dates), and
    `daily`, seconds of the UTC day (time-of-day windows)."""

    once: list[int]
    daily: list[int]


def _price_changes(prices: Any, types: Any) -> _Changes | None:
    """When the library may pick another of `prices`; None when a constraint is of a kind this
    module does not know."""
    once: list[int] = []
    daily: list[int] = []
    if not isinstance(prices, list):
        return _Changes(once, daily)
    for conditional in prices:
        constraint = conditional.constraint
        if constraint is None:
            continue
        if isinstance(constraint, types.StartDateConstraint):
            start = constraint.start_date
            once.append(days_from_civil(start.year, start.month, start.day) * SECONDS_PER_DAY)
        elif isinstance(constraint, types.TimeOfDateConstraint):
            for moment in (constraint.start_time, constraint.end_time):
                second_of_day = _utc_second_of_day(moment)
                if second_of_day is None:
                    return None
                daily.append(second_of_day)
        else:
            return None
    return _Changes(sorted(once), sorted(set(daily)))


def _price_window(changes: _Changes, second: int) -> tuple[float, float]:
    """The instants around `second` between which the library picks the same price."""
    at = bisect.bisect_right(changes.once, second)
    before: float = changes.once[at - 1] if at else -math.inf
    after: float = changes.once[at] if at < len(changes.once) else math.inf
    if changes.daily:
        day = second // SECONDS_PER_DAY
        for moment in (
            (day + shift) * SECONDS_PER_DAY + second_of_day
            for shift in (-1, 0, 1)
            for second_of_day in changes.daily
        ):
            if moment <= second:
                before = max(before, moment)
            else:
                after = min(after, moment)
    return before, after


def _utc_second_of_day(moment: time) -> int | None:
    if moment.microsecond:
        return None
    offset = moment.utcoffset()
    shift = 0 if offset is None else int(offset.total_seconds())
    return (moment.hour * 3600 + moment.minute * 60 + moment.second - shift) % SECONDS_PER_DAY


# (prompt, completion, per run, lowest tier's last prompt-token count, cache read, cache write);
# a limit of -1 sends every run through `Tariff.cost`.
_NO_RATES = (0, 0, 0, -1, 0, 0)
Rates = tuple[int, int, int, int, int]  # per uncached prompt, completion, run, cache read, write


class Tariff:
    """Femto-dollar rates per uncached prompt token, per completion token, per run, per
    cache-read and per cache-write token, for each tier."""

    __slots__ = ("_calculate", "base_rates", "rates", "thresholds")

    def __init__(
        self,
        thresholds: tuple[int, ...],
        rates: tuple[Rates, ...],
        calculate: Any = None,
    ):
        self.thresholds = thresholds  # a tier applies above its threshold of prompt tokens
        self.rates = rates
        self._calculate = calculate  # the library's own calculation, when rates cannot be exact
        # The rates of the lowest tier and its last prompt-token count, for callers that inline
        # the common case (see `_NO_RATES`).
        if calculate is None:
            limit = thresholds[0] if thresholds else 1 << 62
            first = rates[0]
            self.base_rates = (first[0], first[1], first[2], limit, first[3], first[4])
        else:
            self.base_rates = _NO_RATES

    def cost(self, prompt: int, completion: int, cache_read: int = 0, cache_write: int = 0) -> int:
        """The cost of one run, in femto-dollars; the cache parts are parts of `prompt`."""
        if self._calculate is not None:
            return _femto(self._calculate(prompt, completion, cache_read, cache_write))
        rates = self.rates[bisect.bisect_left(self.thresholds, prompt) if self.thresholds else 0]
        return (
            rates[0] * (prompt - cache_read - cache_write)
            + rates[1] * completion
            + rates[2]
            + rates[3] * cache_read
            + rates[4] * cache_write
        )


def _derive_tariff(price: Any, usage: Any, tiered: type[Any]) -> Tariff:
    def calculate(prompt: int, completion: int, read: int = 0, write: int = 0) -> Decimal:
        counts = {"input_tokens": prompt, "output_tokens": completion}
        if read:
            counts["cache_read_tokens"] = read
        if write:
            counts["cache_write_tokens"] = write
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = price.calc_price(usage(**counts))
        total: Decimal = result["total_price"]
        return total

    thresholds = tuple(
        sorted(
            {
                tier.start
                for value in vars(price).values()
                if isinstance(value, tiered)
                for tier in value.tiers
            }
        )
    )
    rates = []
    lows = (-1, *thresholds)
    highs = (*thresholds, None)
    for low, high in zip(lows, highs, strict=True):
        first = low + 1
        second = high if high is not None and high > first else first + _PROBE
        if high is not None and second > high:
            return Tariff(
                thresholds, (), calculate
            )  # a tier one token wide: leave it to the library
        at_first = calculate(first, 0)
        prompt_rate = (calculate(second, 0) - at_first) / (second - first)
        completion_rate = (calculate(first, _PROBE) - at_first) / _PROBE
        per_run = at_first - prompt_rate * first
        # All of `second` read from (or written to) the cache: the cache rates alone.
        read_rate = (calculate(second, 0, read=second) - per_run) / second
        write_rate = (calculate(second, 0, write=second) - per_run) / second
        read, write = second // 3, second // 4
        expected = (
            prompt_rate * (second - read - write)
            + completion_rate * _PROBE
            + per_run
            + read_rate * read
            + write_rate * write
        )
        exact = [
            _whole_femto(value)
            for value in (prompt_rate, completion_rate, per_run, read_rate, write_rate)
        ]
        if calculate(second, _PROBE, read, write) != expected or None in exact:
            return Tariff(thresholds, (), calculate)
        rates.append(tuple(exact))
    return Tariff(thresholds, tuple(rates))  # type: ignore[arg-type]


def _whole_femto(dollars: Decimal) -> int | None:
    scaled = dollars * FEMTO_PER_USD
    whole = scaled.to_integral_value()
    return int(whole) if whole == scaled else None


def _femto(dollars: Decimal) -> int:
    from decimal import ROUND_HALF_EVEN

    return int((dollars * FEMTO_PER_USD).to_integral_value(rounding=ROUND_HALF_EVEN))
