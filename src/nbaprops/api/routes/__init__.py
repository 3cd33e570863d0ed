"""The JSON API's routes, one ``APIRouter`` per concern; ``api.app`` includes them in order.

Every route is thin: it parses its parameters, calls one ``nbaprops.read`` function
and returns what it gives (the response model validates and documents it).
"""
