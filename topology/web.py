"""Page helpers of the registry that the pages of other apps (probes, decisions) use too."""
from django.core.exceptions import PermissionDenied

from core.actors import Actor
from core.errors import Conflict, Forbidden, Invalid

from .authentication import ui_actor
from .manifest import ServiceSpec
from .models import Service
from .registration import registration_apply


def service_write_require(actor: Actor, service: Service) -> None:
    """A 403 page unless the actor maintains the service's team."""
    if not actor.can_write_team(service.team_id):
        raise PermissionDenied(f"Only maintainers of {service.team or 'its team'} can change {service.name}.")


def form_spec_apply(request, form, spec: ServiceSpec) -> bool:
    """Apply one service spec from a form; put refusals on the form. True when saved."""
    try:
        registration_apply(specs=[spec], actor=ui_actor(request))
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from None
    except (Invalid, Conflict) as exc:
        form.add_error(None, str(exc))
        return False
    return True
