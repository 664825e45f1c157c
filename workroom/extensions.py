"""Flask extensions, created once and bound to the app in ``create_app``."""

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_security import Security
from flask_wtf import CSRFProtect

babel = Babel()
csrf = CSRFProtect()
# The client address is correct behind TRUSTED_PROXIES hops (ProxyFix in create_app).
limiter = Limiter(key_func=get_remote_address, default_limits=[])
migrate = Migrate()
security = Security()
