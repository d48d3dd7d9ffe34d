"""Endpoints that answer with a file (a drawing, Mermaid or Markdown text, a zip, a PDF) negotiate it like
any other DRF content: their renderers declare the media type they return, so an Accept that admits it
gets the file (406 only when nothing the endpoint returns is acceptable), and a refusal stays JSON
whatever Accept said.

A view returns `Response(body)` with the bytes or text it built; the renderer passes them through under
its media type. `FileResponses` goes first in the bases of the view or viewset.
"""
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response


class FileRenderer(BaseRenderer):
    """A body the view built, passed through as it is (text is encoded with `charset`)."""

    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, str):
            return data.encode(self.charset or "utf-8")
        return data


class TextFileRenderer(FileRenderer):
    charset = "utf-8"
    render_style = "text"


class SvgRenderer(FileRenderer):
    media_type, format = "image/svg+xml", "svg"


class PngRenderer(FileRenderer):
    media_type, format = "image/png", "png"


class DotRenderer(TextFileRenderer):
    media_type, format = "text/vnd.graphviz", "dot"


class MermaidRenderer(TextFileRenderer):
    media_type, format = "text/vnd.mermaid", "mermaid"


class MarkdownRenderer(TextFileRenderer):
    media_type, format = "text/markdown", "md"


class ZipRenderer(FileRenderer):
    media_type, format = "application/zip", "zip"


class PdfRenderer(FileRenderer):
    media_type, format = "application/pdf", "pdf"


class FileResponses:
    """Mixin for APIView and viewsets whose renderers include FileRenderers.

    `format_parameter` names a query parameter that picks the renderer by its `format` (the topology's
    ?format=svg|png|dot|json); Accept must then admit that one. Without it, Accept picks among the
    renderers (the first for */*). A format no renderer has is left to the view to refuse (400).
    """

    format_parameter = ""

    def get_format_suffix(self, **kwargs):
        if not self.format_parameter:
            return super().get_format_suffix(**kwargs)
        asked = self.request.query_params.get(self.format_parameter)
        return asked if asked in {renderer.format for renderer in self.get_renderers()} else None

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if isinstance(response, Response) and isinstance(response.accepted_renderer, FileRenderer) \
                and not isinstance(response.data, (bytes, str)):  # a refusal (or 406 itself): JSON
            response.accepted_renderer, response.accepted_media_type = JSONRenderer(), JSONRenderer.media_type
        return response


def file_response(body: bytes | str, *, filename: str, inline: bool = False) -> Response:
    """A file answer, named for saving (or shown, `inline`); its media type is the negotiated renderer's."""
    disposition = "inline" if inline else "attachment"
    return Response(body, headers={"Content-Disposition": f'{disposition}; filename="{filename}"'})
