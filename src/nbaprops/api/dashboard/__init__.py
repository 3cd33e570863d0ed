"""The web dashboard: server-rendered pages on the API's app, over the same read layer.

Every page reads the published snapshot through ``nbaprops.read`` (the functions the
JSON endpoints and the CLI call), draws its charts as inline SVG (``api.charts``) and
links one stylesheet served from the package: no JavaScript, no CDN, nothing fetched
from the internet, usable on a phone. Real lines and estimated lines never share a
figure.

One module per page, each an ``APIRouter`` whose route parses its input, calls the
read functions and hands their data to a pure view-model function (data in, template
context out; no connection, no request), which unit tests call directly:
``tonight`` (``/``: signal, best bets, every prediction filterable by system and
team), ``track`` (``/ui/track``: a system's track record), ``player``
(``/ui/players/{id}``: a player's games in one market), ``registry`` (``/ui/models``:
registry and champions per market, aliases, promotions, experiments sortable),
``health`` (``/ui/health``: phase records, diagnostics with their causes, alerts).
``render`` renders and caches pages, ``format`` holds the template filters, ``site``
mounts it all on the app.
"""
