from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route


async def index(request):
    return PlainTextResponse("hello from an ASGI app\n")


app = Starlette(routes=[Route("/", index)])
