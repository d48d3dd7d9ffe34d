"""How bad a mismatch is: the one ranking every app uses (pure: no Django, so pure cores share it)."""
INFO, WARNING, ERROR = "info", "warning", "error"
SEVERITIES = (ERROR, WARNING, INFO)  # worst first; "" is no mismatch
SEVERITY_RANK = {"": 0, INFO: 1, WARNING: 2, ERROR: 3}
SEVERITY_OF_RANK = {rank: severity for severity, rank in SEVERITY_RANK.items()}


def severity_at_least(severity: str, threshold: str) -> bool:
    return SEVERITY_RANK.get(severity, 0) >= SEVERITY_RANK[threshold]
