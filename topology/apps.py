from django.apps import AppConfig


class TopologyConfig(AppConfig):
    name = "topology"
    verbose_name = "Topology"

    def ready(self) -> None:
        from . import schema  # noqa: F401  (registers the OpenAPI description of token auth)
        from .extensions import registered
        from .graph_selectors import budget_findings_of

        if budget_findings_of not in registered.findings:  # latency budgets along sync chains
            registered.findings.append(budget_findings_of)
