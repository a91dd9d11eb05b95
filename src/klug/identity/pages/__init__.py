"""Identity pages: login flows, the own account, and the console's administration."""

from klug.core.routes import Router
from klug.identity.pages import account, console, login, own_data

router = Router(include_in_schema=False)
router.include_router(login.router)
router.include_router(account.router)
router.include_router(own_data.router)
router.include_router(console.router)
