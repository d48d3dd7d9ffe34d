"""Cookie and transport settings as production builds them (DEBUG=false), read in a fresh interpreter."""
import json
import os
import subprocess
import sys

import pytest
from django.conf import settings

NAMES = ["DEBUG", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "CSRF_COOKIE_HTTPONLY",
         "SESSION_COOKIE_SAMESITE", "CSRF_COOKIE_SAMESITE", "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS",
         "SECURE_HSTS_PRELOAD", "SECURE_PROXY_SSL_HEADER", "SECURE_SSL_REDIRECT", "SECURE_CONTENT_TYPE_NOSNIFF",
         "SECURE_REFERRER_POLICY", "X_FRAME_OPTIONS", "AXES_FAILURE_LIMIT", "AXES_COOLOFF_TIME"]
PRINT = ("import json, webapp.settings as s; "
         f"print(json.dumps({{name: getattr(s, name) for name in {NAMES!r}}}, default=str))")


def built(tmp_path, **env) -> dict:
    """The settings module loaded with env on top of a production-like environment."""
    base = {key: value for key, value in os.environ.items()
            if not key.startswith(("SECURE_", "LOGIN_", "BEHIND_", "DEBUG", "CSP_"))}
    base.update({"DEBUG": "false", "SECRET_KEY": "s" * 50, "ALLOWED_HOSTS": "switchboard.example.com",
                 "SWITCHBOARD_VAR_DIR": str(tmp_path)})
    base.update(env)
    found = subprocess.run([sys.executable, "-c", PRINT], env=base, cwd=settings.BASE_DIR,
                           capture_output=True, text=True, timeout=60)
    if found.returncode != 0:
        raise AssertionError(found.stderr.strip().splitlines()[-1])
    return json.loads(found.stdout.strip().splitlines()[-1])


def test_it_handles_production_with_secure_cookies_and_hsts(tmp_path):
    values = built(tmp_path)
    assert values["DEBUG"] is False
    assert values["SESSION_COOKIE_SECURE"] is True and values["CSRF_COOKIE_SECURE"] is True
    assert values["SESSION_COOKIE_HTTPONLY"] is True and values["CSRF_COOKIE_HTTPONLY"] is True
    assert values["SESSION_COOKIE_SAMESITE"] == "Lax" and values["CSRF_COOKIE_SAMESITE"] == "Lax"
    assert values["SECURE_HSTS_SECONDS"] == 31_536_000
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is False and values["SECURE_HSTS_PRELOAD"] is False
    assert values["SECURE_PROXY_SSL_HEADER"] is None  # opt-in only
    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SECURE_CONTENT_TYPE_NOSNIFF"] is True
    assert values["SECURE_REFERRER_POLICY"] == "same-origin" and values["X_FRAME_OPTIONS"] == "DENY"
    assert values["AXES_FAILURE_LIMIT"] == 5 and values["AXES_COOLOFF_TIME"] == "0:15:00"


def test_it_handles_development_with_plain_http_cookies_and_no_hsts(tmp_path):
    values = built(tmp_path, DEBUG="true")
    assert values["SESSION_COOKIE_SECURE"] is False and values["CSRF_COOKIE_SECURE"] is False
    assert values["SECURE_HSTS_SECONDS"] == 0
    assert values["SESSION_COOKIE_HTTPONLY"] is True


def test_it_handles_the_environment_overrides(tmp_path):
    values = built(tmp_path, SECURE_HSTS_SECONDS="600", SECURE_HSTS_INCLUDE_SUBDOMAINS="true",
                   BEHIND_TLS_PROXY="true", SECURE_SSL_REDIRECT="true", LOGIN_FAILURE_LIMIT="8",
                   LOGIN_LOCKOUT_MINUTES="60")
    assert values["SECURE_HSTS_SECONDS"] == 600 and values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["AXES_FAILURE_LIMIT"] == 8 and values["AXES_COOLOFF_TIME"] == "1:00:00"
    assert built(tmp_path, SECURE_COOKIES="false")["SESSION_COOKIE_SECURE"] is False


@pytest.mark.parametrize("env, message", [
    ({"SECURE_HSTS_SECONDS": "a year"}, "SECURE_HSTS_SECONDS='a year' is not a whole number"),
    ({"SECURE_HSTS_PRELOAD": "true"}, "SECURE_HSTS_PRELOAD=true needs SECURE_HSTS_INCLUDE_SUBDOMAINS=true"),
    ({"BEHIND_TLS_PROXY": "maybe"}, "BEHIND_TLS_PROXY='maybe' is not a boolean"),
    ({"LOGIN_LOCKOUT_MINUTES": "0"}, "LOGIN_LOCKOUT_MINUTES must be at least 1"),
])
def test_it_rejects_a_bad_security_setting_naming_it(tmp_path, env, message):
    with pytest.raises(AssertionError, match="ImproperlyConfigured: " + message.replace("(", r"\(")):
        built(tmp_path, **env)


def test_it_handles_https_requests_with_hsts_and_no_sniff(client, settings, db):
    settings.SECURE_HSTS_SECONDS = 31_536_000
    response = client.get("/accounts/login/", secure=True)
    assert response["Strict-Transport-Security"] == "max-age=31536000"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in client.get("/accounts/login/")


def test_it_handles_the_csp_header_on_pages(client, db):
    policy = client.get("/accounts/login/")["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in policy
