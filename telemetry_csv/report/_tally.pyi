from collections.abc import Callable
from typing import Any

def tally(
    run: str,
    extended: bool,
    fine: bool,
    is_new: Callable[[str, str], bool],
    prices: dict[str, tuple[int, ...] | None] | None,
    cost_of: Callable[[str, int, str, int, int, int, int], int | None],
    /,
) -> (
    tuple[int, dict[tuple[Any, ...], list[Any]], dict[tuple[int, str], list[Any]], Any, Any] | None
): ...
