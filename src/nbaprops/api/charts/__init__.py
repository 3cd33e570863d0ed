"""Server-rendered SVG charts for the dashboard: no JavaScript, no CDN, works offline.

Every public chart function is pure: plain Python numbers, lists and dicts in, one
``<svg>`` string out, safe to embed in HTML (every piece of text goes through
``html.escape``). The same input always gives the same string.

Charts are responsive (a ``viewBox`` and ``width="100%"``, never a fixed pixel
width) and sized for a 360 px phone screen: the viewBox is 360 units wide by
default, so text stays near its nominal size on a phone. Each chart has a
``<title>``, a ``<desc>`` summarising the data, ``role="img"`` and an
``aria-label``, axis labels in text, and its N in text.

Bad data never raises: non-finite values (None, NaN, inf, unparsable, or beyond
±1e15) are skipped, and a chart with nothing left to draw is a small SVG saying "no
data". Colours are presentation attributes, so the SVG renders standalone, and every
element carries a class so the page stylesheet can restyle it; text uses
``currentColor`` and follows the page's text colour (dark mode included).

One module per chart family (import the family, nothing is re-exported here):
``lines`` (line, band, rolling hit rate), ``bars`` (grouped bars, interval bars),
``reliability`` (calibration), ``sparkline``; shared pieces in ``common`` (sizes,
palette, text helpers), ``ticks`` (numeric and date ticks) and ``svg`` (the builder,
axes, header, "no data").
"""
