"""A plan as Markdown with Mermaid before/after flowcharts, for a pull request or a wiki. Pure."""


def plan_markdown(*, name: str, title: str, evaluation: dict, before_chart: str, after_chart: str,
                  stale: list[str]) -> str:
    lines = [f"# Change plan: {_one_line(title)} (`{name}`)", ""]
    if stale:
        lines += ["> **No longer applies as saved:** " + "; ".join(_one_line(s) for s in stale), ""]
    lines += ["| interaction | before | after | the rules recommend |", "| --- | --- | --- | --- |"]
    new = [item for item in evaluation["changes"] if item["before"] is None]
    for item in evaluation["changes"]:
        after = item["after"]
        before = item["before"]
        lines.append(f"| `{item['interaction']}` | {'new' if before is None else before['style'] or 'undecided'} | "
                     f"{'removed' if after is None else after['style'] or 'undecided'} | "
                     f"{'' if after is None else after['recommended']} |")
    if new:
        lines += ["", "New interactions: " + "; ".join(
            f"`{item['interaction']}` to {', '.join(f'`{t}`' for t in item['targets'])}" for item in new)]
    for heading, key in (("Better", "better"), ("Worse", "worse")):
        lines += ["", f"## {heading}", ""] + ([f"- {_one_line(line)}" for line in evaluation[key]] or ["- nothing"])
    lines += ["", "## Before", "", "```mermaid", before_chart.rstrip(), "```", "",
              "## After", "", "```mermaid", after_chart.rstrip(), "```", "", "## Migration steps"]
    for item in evaluation["changes"]:
        lines += ["", f"### `{item['interaction']}`", ""]
        lines += [f"{step['order']}. {_one_line(step['step'])} ({step['cites']})" for step in item["steps"]]
    return "\n".join(lines) + "\n"


def _one_line(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")
