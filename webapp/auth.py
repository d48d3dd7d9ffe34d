"""Django's model backend, with the user of each signed-in request read by SQL compiled once.

Every signed-in request reads its user. Building that query through the ORM costs more than running
it, and more than the rest of a request answered from memory (a topology drawing already made), so
the statement is compiled on first use and run through a raw query set, which still applies the
database's type conversions and makes a normal User.
"""
import functools

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class UserBackend(ModelBackend):
    def get_user(self, user_id):
        found = next(iter(get_user_model()._default_manager.raw(_user_sql(), [user_id])), None)
        return found if found is not None and self.user_can_authenticate(found) else None


@functools.cache
def _user_sql() -> str:
    sql, _ = get_user_model()._default_manager.filter(pk=0).query.sql_with_params()
    return sql
